//! Claims and fences: one owner at a time, takeovers raise the epoch, and every checkpoint
//! write of a lost claim or from a wrong position is refused.

use uuid::Uuid;

use super::{
    LONG_LEASE, PAST_SHORT_LEASE, SHORT_LEASE, advance, assert_fenced, claim, expect_claim, ok,
    state,
};
use crate::projection::{CheckpointStore, ProjectionKey, Status};

/// A projection never claimed has no state, no dead letters and no active version.
pub async fn reads_of_unknown_projections_are_empty<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_unknown", 1);
    assert_eq!(ok("state", store.state(&key).await), None);
    assert_eq!(ok("dead_letters", store.dead_letters(&key).await), vec![]);
    assert_eq!(
        ok("active_version", store.active_version(&key.name).await),
        None
    );
}

/// The first claim creates the checkpoint at 0, active; while the lease lasts another owner is
/// refused and the holder's own claim keeps its epoch; once it has run out another owner
/// takes over with the next epoch, and the former holder can no longer renew.
pub async fn claims_are_exclusive_until_the_lease_runs_out<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_claims", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let first = expect_claim(store, &key, a, LONG_LEASE).await;
    assert_eq!(
        (first.owner, first.position, first.replay_until),
        (a, 0, 0),
        "the first claim starts the checkpoint at 0, with nothing to replay"
    );
    assert!(
        first.active,
        "the first version claimed of a projection is active"
    );
    assert_eq!(first.status, Status::Running);

    assert_eq!(
        claim(store, &key, b, LONG_LEASE).await,
        None,
        "another owner must be refused while the lease lasts"
    );
    let again = expect_claim(store, &key, a, SHORT_LEASE).await;
    assert_eq!(
        again.epoch, first.epoch,
        "the holder claiming again keeps its epoch"
    );
    assert!(
        ok("renew", store.renew(&again, SHORT_LEASE).await),
        "the holder renews its own claim"
    );

    tokio::time::sleep(PAST_SHORT_LEASE).await;
    let taken = expect_claim(store, &key, b, LONG_LEASE).await;
    assert_eq!(
        taken.epoch,
        first.epoch + 1,
        "a takeover raises the epoch by one"
    );
    assert!(
        !ok("renew", store.renew(&first, LONG_LEASE).await),
        "a claim taken over cannot be renewed"
    );
    assert!(ok("renew", store.renew(&taken, LONG_LEASE).await));
    assert_eq!(
        claim(store, &key, a, LONG_LEASE).await,
        None,
        "the former holder must be refused while the new lease lasts"
    );
    let state = state(store, &key).await;
    assert_eq!((state.owner, state.epoch), (Some(b), taken.epoch));
    assert!(state.lease_until.is_some(), "a held claim has a lease end");
}

/// The checkpoint write of a runner that was taken over is refused as fenced and changes
/// nothing; the new owner's goes through.
pub async fn a_runner_taken_over_cannot_advance<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_takeover", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let first = expect_claim(store, &key, a, SHORT_LEASE).await;
    ok("advance 0 -> 3", advance(store, &first, 0, 3).await);
    // The advance extended the lease; give it back to a short one that runs out.
    assert!(ok("renew", store.renew(&first, SHORT_LEASE).await));
    tokio::time::sleep(PAST_SHORT_LEASE).await;
    let taken = expect_claim(store, &key, b, LONG_LEASE).await;
    assert_eq!(
        taken.position, 3,
        "the new owner starts from the checkpoint"
    );

    let refused = advance(store, &first, 3, 7).await;
    assert_fenced(&refused, &first, 3, "the advance of a runner taken over");
    let after = state(store, &key).await;
    assert_eq!(
        (after.position, after.epoch, after.owner),
        (3, taken.epoch, Some(b)),
        "a fenced advance changes nothing"
    );
    ok(
        "the new owner's advance",
        advance(store, &taken, 3, 7).await,
    );
    assert_eq!(state(store, &key).await.position, 7);
}

/// An advance from a position other than the checkpoint is refused as fenced and changes
/// nothing; a rolled-back advance leaves the checkpoint where it was.
pub async fn advance_is_fenced_by_the_expected_position<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_expected_position", 1);
    let holder = expect_claim(store, &key, Uuid::now_v7(), LONG_LEASE).await;
    ok("advance 0 -> 2", advance(store, &holder, 0, 2).await);
    let refused = advance(store, &holder, 0, 4).await;
    assert_fenced(&refused, &holder, 0, "an advance from a stale position");
    assert_eq!(state(store, &key).await.position, 2);
    let refused = advance(store, &holder, 3, 4).await;
    assert_fenced(&refused, &holder, 3, "an advance from a position ahead");

    let mut batch = super::begin(store).await;
    ok(
        "advance 2 -> 6",
        store.advance(&mut batch, &holder, 2, 6, LONG_LEASE).await,
    );
    super::rollback(store, batch).await;
    assert_eq!(
        state(store, &key).await.position,
        2,
        "a rolled-back advance must not move the checkpoint"
    );
    ok("advance 2 -> 4", advance(store, &holder, 2, 4).await);
    assert_eq!(state(store, &key).await.position, 4);
}

/// After a release another owner claims at once, with the next epoch; the released claim can
/// neither advance nor renew, and releasing it again is harmless.
pub async fn a_released_claim_is_taken_at_once<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_release", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let first = expect_claim(store, &key, a, LONG_LEASE).await;
    ok("release", store.release(&first).await);
    let state_released = state(store, &key).await;
    assert_eq!(state_released.owner, None, "a released claim has no owner");

    let taken = expect_claim(store, &key, b, LONG_LEASE).await;
    assert_eq!(taken.epoch, first.epoch + 1);
    let refused = advance(store, &first, 0, 1).await;
    assert_fenced(&refused, &first, 0, "the advance of a released claim");
    assert!(!ok("renew", store.renew(&first, LONG_LEASE).await));
    ok("a second release", store.release(&first).await);
    assert_eq!(
        state(store, &key).await.owner,
        Some(b),
        "releasing a lost claim must not release the new owner's"
    );

    // The same owner claiming again after a release (a runner restarted with a stable id)
    // gets a new epoch, and its claim from before the release is dead: the epoch, not the
    // owner, fences it.
    ok("release", store.release(&taken).await);
    let renewed_owner = expect_claim(store, &key, b, LONG_LEASE).await;
    assert_eq!(renewed_owner.epoch, taken.epoch + 1);
    let refused = advance(store, &taken, 0, 1).await;
    assert_fenced(
        &refused,
        &taken,
        0,
        "the advance of the same owner's older claim",
    );
    assert!(!ok("renew", store.renew(&taken, LONG_LEASE).await));
    ok("advance 0 -> 1", advance(store, &renewed_owner, 0, 1).await);
}
