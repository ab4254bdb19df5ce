//! Versions: a new one builds beside the active one and takes over by activation.

use uuid::Uuid;

use super::{LONG_LEASE, advance, assert_fenced, begin, commit, expect_claim, ok, rollback, state};
use crate::projection::{CheckpointStore, ProjectionKey, Status};

/// A new version starts inactive, replaying up to the active version's checkpoint; activating
/// it makes it the active one and retires the old, whose checkpoint writes are then refused.
pub async fn a_new_version_builds_beside_the_active_one<C: CheckpointStore>(store: &C) {
    let name = "conformance_versions";
    let (v1, v2, v3) = (
        ProjectionKey::new(name, 1),
        ProjectionKey::new(name, 2),
        ProjectionKey::new(name, 3),
    );
    let old = expect_claim(store, &v1, Uuid::now_v7(), LONG_LEASE).await;
    ok("advance v1 0 -> 5", advance(store, &old, 0, 5).await);

    let new = expect_claim(store, &v2, Uuid::now_v7(), LONG_LEASE).await;
    assert!(
        !new.active,
        "a new version starts inactive beside the active one"
    );
    assert_eq!(
        (new.position, new.replay_until),
        (0, 5),
        "a new version replays up to the active version's checkpoint"
    );
    assert_eq!(
        ok("active_version", store.active_version(name).await),
        Some(1)
    );

    ok("advance v2 0 -> 5", advance(store, &new, 0, 5).await);
    let mut batch = begin(store).await;
    ok("activate v2", store.activate(&mut batch, &new).await);
    commit(store, batch).await;
    assert_eq!(
        ok("active_version", store.active_version(name).await),
        Some(2)
    );
    let retired = state(store, &v1).await;
    assert_eq!(
        (retired.status, retired.active),
        (Status::Retired, false),
        "activation retires the other versions"
    );
    assert!(state(store, &v2).await.active);

    let refused = advance(store, &old, 5, 6).await;
    assert_fenced(&refused, &old, 5, "the advance of a retired version");
    assert!(
        !ok("renew", store.renew(&old, LONG_LEASE).await),
        "a retired version's claim cannot be renewed, so its idle runner stands down"
    );
    let mut batch = begin(store).await;
    let refused = store.activate(&mut batch, &old).await;
    assert_fenced(
        &refused,
        &old,
        old.position,
        "the activation of a retired version",
    );
    rollback(store, batch).await;
    let reclaimed = expect_claim(store, &v1, old.owner, LONG_LEASE).await;
    assert_eq!(
        reclaimed.status,
        Status::Retired,
        "a claim of a retired version says so"
    );

    let newer = expect_claim(store, &v3, Uuid::now_v7(), LONG_LEASE).await;
    assert_eq!(
        (newer.active, newer.replay_until),
        (false, 5),
        "the next version replays up to the newly active one"
    );
    let mut batch = begin(store).await;
    let lost = {
        let mut lost = new.clone();
        lost.epoch += 1;
        lost
    };
    let refused = store.activate(&mut batch, &lost).await;
    assert_fenced(
        &refused,
        &lost,
        lost.position,
        "an activation with a wrong epoch",
    );
    rollback(store, batch).await;
    assert_eq!(
        ok("active_version", store.active_version(name).await),
        Some(2)
    );
}
