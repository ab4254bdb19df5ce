//! Failures, dead letters and rewinds.

use uuid::Uuid;

use super::{
    LONG_LEASE, advance, assert_fenced, begin, commit, expect_claim, ok, rollback, sample_failure,
    state,
};
use crate::projection::{CheckpointStore, ProjectionKey, Status};

/// Dead letters recorded in a committed batch read back as recorded, in position order; those
/// of a rolled-back batch are gone; each version has its own.
pub async fn dead_letters_read_back_in_position_order<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_dead_letters", 1);
    let holder = expect_claim(store, &key, Uuid::now_v7(), LONG_LEASE).await;
    let (late, early) = (
        sample_failure(7, "late: could not decode"),
        sample_failure(3, "early: handler said no ✗"),
    );
    let mut batch = begin(store).await;
    ok(
        "dead_letter",
        store.dead_letter(&mut batch, &key, &late).await,
    );
    ok(
        "dead_letter",
        store.dead_letter(&mut batch, &key, &early).await,
    );
    ok(
        "advance 0 -> 8",
        store.advance(&mut batch, &holder, 0, 8, LONG_LEASE).await,
    );
    commit(store, batch).await;

    let mut batch = begin(store).await;
    let dropped = sample_failure(9, "rolled back");
    ok(
        "dead_letter",
        store.dead_letter(&mut batch, &key, &dropped).await,
    );
    rollback(store, batch).await;

    assert_eq!(
        ok("dead_letters", store.dead_letters(&key).await),
        vec![early, late],
        "dead letters read back as recorded, in position order, without rolled-back ones"
    );
    let other = ProjectionKey::new(key.name.clone(), 2);
    assert_eq!(
        ok("dead_letters", store.dead_letters(&other).await),
        vec![],
        "another version has dead letters of its own"
    );
}

/// A failure marked by the holder shows in the state (status failed, the event named) with
/// the checkpoint unmoved; a lost claim cannot mark one; the next advance clears it.
pub async fn a_failure_shows_in_state_until_the_checkpoint_moves<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_failure", 1);
    let holder = expect_claim(store, &key, Uuid::now_v7(), LONG_LEASE).await;
    ok("advance 0 -> 4", advance(store, &holder, 0, 4).await);
    let failure = sample_failure(5, "handler failed: boom");
    ok("mark_failed", store.mark_failed(&holder, &failure).await);
    let failed = state(store, &key).await;
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(
        failed.failure,
        Some(failure),
        "the failure reads back as marked"
    );
    assert_eq!(
        failed.position, 4,
        "marking a failure does not move the checkpoint"
    );

    ok("release", store.release(&holder).await);
    let refused = store
        .mark_failed(&holder, &sample_failure(5, "again"))
        .await;
    assert_fenced(&refused, &holder, 5, "mark_failed of a lost claim");

    let retaken = expect_claim(store, &key, Uuid::now_v7(), LONG_LEASE).await;
    assert_eq!(
        retaken.status,
        Status::Failed,
        "a claim reports the failed status"
    );
    ok("advance 4 -> 5", advance(store, &retaken, 4, 5).await);
    let running = state(store, &key).await;
    assert_eq!(
        (running.status, running.failure, running.position),
        (Status::Running, None, 5),
        "an advance clears the failure"
    );
}

/// A rewind sets the checkpoint to 0, makes the events up to where it was replays (never
/// lowering an earlier mark) and clears a failure; the dead letters stay, and one recorded
/// again for the same position replaces the old. From a wrong position, or by a lost claim, a
/// rewind is refused.
pub async fn rewind_sets_the_checkpoint_back_and_marks_replays<C: CheckpointStore>(store: &C) {
    let key = ProjectionKey::new("conformance_rewind", 1);
    let holder = expect_claim(store, &key, Uuid::now_v7(), LONG_LEASE).await;
    let mut batch = begin(store).await;
    ok(
        "dead_letter",
        store
            .dead_letter(&mut batch, &key, &sample_failure(2, "old build"))
            .await,
    );
    ok(
        "advance 0 -> 6",
        store.advance(&mut batch, &holder, 0, 6, LONG_LEASE).await,
    );
    commit(store, batch).await;
    ok(
        "mark_failed",
        store.mark_failed(&holder, &sample_failure(7, "boom")).await,
    );

    let mut batch = begin(store).await;
    let refused = store.rewind(&mut batch, &holder, 5).await;
    assert_fenced(&refused, &holder, 5, "a rewind from a wrong position");
    rollback(store, batch).await;

    let mut batch = begin(store).await;
    ok("rewind", store.rewind(&mut batch, &holder, 6).await);
    commit(store, batch).await;
    let rewound = state(store, &key).await;
    assert_eq!(
        (rewound.position, rewound.replay_until),
        (0, 6),
        "a rewind starts over and replays up to where it was"
    );
    assert_eq!(
        (rewound.status, rewound.failure),
        (Status::Running, None),
        "a rewind clears the failure"
    );
    assert_eq!(
        ok("dead_letters", store.dead_letters(&key).await).len(),
        1,
        "a rewind keeps the dead letters"
    );

    let again = sample_failure(2, "new build");
    let mut batch = begin(store).await;
    ok(
        "dead_letter",
        store.dead_letter(&mut batch, &key, &again).await,
    );
    ok(
        "advance 0 -> 2",
        store.advance(&mut batch, &holder, 0, 2, LONG_LEASE).await,
    );
    commit(store, batch).await;
    assert_eq!(
        ok("dead_letters", store.dead_letters(&key).await),
        vec![again],
        "a letter recorded again for a position replaces the old one"
    );
    let mut batch = begin(store).await;
    ok("rewind", store.rewind(&mut batch, &holder, 2).await);
    commit(store, batch).await;
    assert_eq!(
        state(store, &key).await.replay_until,
        6,
        "a rewind never lowers the replay mark"
    );

    ok("release", store.release(&holder).await);
    let mut batch = begin(store).await;
    let refused = store.rewind(&mut batch, &holder, 0).await;
    assert_fenced(&refused, &holder, 0, "the rewind of a lost claim");
    rollback(store, batch).await;
}
