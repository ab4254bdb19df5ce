//! The checkpoint-store conformance suite: the checks every [`CheckpointStore`] must pass
//! unchanged (feature `testing`).
//!
//! Each check is a public async function taking the store by reference; every check uses
//! projection names of its own, so one store can run them all ([`run_all`]). Leases are made
//! to run out by claiming for [`SHORT_LEASE`] and sleeping past it, so a store must measure
//! leases with a clock that moves with real time (its database's or the process's).
//!
//! [`a_fenced_batch_rolls_back_the_read_model`] needs a read model written through the
//! store's transaction ([`ReadModel`]); it holds only for stores whose transaction is a real
//! database transaction (exactly-once targets), so it is not part of [`run_all`].
//!
//! ```no_run
//! # async fn example<C: aggregato::projection::CheckpointStore>(store: C) {
//! // In a test of the backend, with a fresh store:
//! aggregato::testing::checkpoints::run_all(&store).await;
//! # }
//! ```
//!
//! A check panics (it is a test assertion) with a message naming the rule the store broke.

mod claims;
mod failures;
mod versions;

use std::future::Future;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::projection::{
    CheckpointStore, Claim, Failure, ProjectionError, ProjectionKey, ProjectionState,
};

pub use claims::{
    a_released_claim_is_taken_at_once, a_runner_taken_over_cannot_advance,
    advance_is_fenced_by_the_expected_position, claims_are_exclusive_until_the_lease_runs_out,
    reads_of_unknown_projections_are_empty,
};
pub use failures::{
    a_failure_shows_in_state_until_the_checkpoint_moves, dead_letters_read_back_in_position_order,
    rewind_sets_the_checkpoint_back_and_marks_replays,
};
pub use versions::a_new_version_builds_beside_the_active_one;

/// A lease no check outlives.
pub const LONG_LEASE: Duration = Duration::from_secs(60);
/// A lease the checks let run out.
pub const SHORT_LEASE: Duration = Duration::from_millis(150);
/// How long the checks sleep for a [`SHORT_LEASE`] to run out: long enough for a store on a
/// busy machine.
pub const PAST_SHORT_LEASE: Duration = Duration::from_millis(400);

/// A read model written through a store's transaction, for
/// [`a_fenced_batch_rolls_back_the_read_model`]: it records markers, and tells which
/// committed.
pub trait ReadModel<C: CheckpointStore>: Sync {
    /// Records `marker` through `transaction` (a row insert, say).
    fn write<'a>(
        &'a self,
        transaction: &'a mut C::Transaction,
        marker: u64,
    ) -> impl Future<Output = ()> + Send + 'a;

    /// The markers committed, in any order.
    fn committed(&self) -> impl Future<Output = Vec<u64>> + Send + '_;
}

/// Runs every check that holds for any store.
pub async fn run_all<C: CheckpointStore>(store: &C) {
    reads_of_unknown_projections_are_empty(store).await;
    claims_are_exclusive_until_the_lease_runs_out(store).await;
    a_runner_taken_over_cannot_advance(store).await;
    advance_is_fenced_by_the_expected_position(store).await;
    a_released_claim_is_taken_at_once(store).await;
    dead_letters_read_back_in_position_order(store).await;
    a_failure_shows_in_state_until_the_checkpoint_moves(store).await;
    rewind_sets_the_checkpoint_back_and_marks_replays(store).await;
    a_new_version_builds_beside_the_active_one(store).await;
}

/// Exactly-once stores: the read-model writes of a batch whose checkpoint write was fenced
/// (its runner was taken over) are rolled back with it, while the new owner's commit.
pub async fn a_fenced_batch_rolls_back_the_read_model<C, R>(store: &C, read_model: &R)
where
    C: CheckpointStore,
    R: ReadModel<C>,
{
    let key = ProjectionKey::new("conformance_read_model", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let first = expect_claim(store, &key, a, SHORT_LEASE).await;
    let mut batch = begin(store).await;
    read_model.write(C::transaction(&mut batch), 1).await;
    ok(
        "advance 0 -> 3",
        store.advance(&mut batch, &first, 0, 3, SHORT_LEASE).await,
    );
    commit(store, batch).await;
    tokio::time::sleep(PAST_SHORT_LEASE).await;
    let second = expect_claim(store, &key, b, LONG_LEASE).await;

    let mut batch = begin(store).await;
    read_model.write(C::transaction(&mut batch), 2).await;
    let refused = store.advance(&mut batch, &first, 3, 5, LONG_LEASE).await;
    assert_fenced(&refused, &first, 3, "the advance of a runner taken over");
    rollback(store, batch).await;

    let mut batch = begin(store).await;
    read_model.write(C::transaction(&mut batch), 3).await;
    ok(
        "the new owner's advance 3 -> 5",
        store.advance(&mut batch, &second, 3, 5, LONG_LEASE).await,
    );
    commit(store, batch).await;

    let mut committed = read_model.committed().await;
    committed.sort_unstable();
    assert_eq!(
        committed,
        vec![1, 3],
        "the read-model write of the fenced batch must be rolled back, the others committed"
    );
    assert_eq!(state(store, &key).await.position, 5);
}

/// Fails the running check.
#[track_caller]
fn panic_with(message: &str) -> ! {
    std::panic::panic_any(format!("checkpoint store conformance: {message}"))
}

/// The result of `what`, which must have succeeded.
#[track_caller]
fn ok<T>(what: &str, result: Result<T, ProjectionError>) -> T {
    result.unwrap_or_else(|error| panic_with(&format!("{what} failed: {error}")))
}

/// Asserts `result` is the [`ProjectionError::Fenced`] refusal of `claim` expecting
/// `expected`.
#[track_caller]
fn assert_fenced<T: std::fmt::Debug>(
    result: &Result<T, ProjectionError>,
    claim: &Claim,
    expected: u64,
    what: &str,
) {
    match result {
        Err(ProjectionError::Fenced {
            projection,
            epoch,
            expected: refused_at,
        }) => {
            assert_eq!(
                projection, &claim.key,
                "{what}: Fenced names the projection"
            );
            assert_eq!(
                *epoch, claim.epoch,
                "{what}: Fenced names the claim's epoch"
            );
            assert_eq!(
                *refused_at, expected,
                "{what}: Fenced names the position expected"
            );
        }
        other => panic_with(&format!("{what} must be refused as Fenced, got {other:?}")),
    }
}

async fn claim<C: CheckpointStore>(
    store: &C,
    key: &ProjectionKey,
    owner: Uuid,
    lease: Duration,
) -> Option<Claim> {
    ok(
        &format!("claim of {key}"),
        store.claim(key, owner, lease).await,
    )
}

/// A claim that must be granted.
async fn expect_claim<C: CheckpointStore>(
    store: &C,
    key: &ProjectionKey,
    owner: Uuid,
    lease: Duration,
) -> Claim {
    claim(store, key, owner, lease)
        .await
        .unwrap_or_else(|| panic_with(&format!("the claim of {key} by {owner} must be granted")))
}

async fn begin<C: CheckpointStore>(store: &C) -> C::Batch {
    ok("begin", store.begin().await)
}

async fn commit<C: CheckpointStore>(store: &C, batch: C::Batch) {
    ok("commit", store.commit(batch).await);
}

async fn rollback<C: CheckpointStore>(store: &C, batch: C::Batch) {
    ok("rollback", store.rollback(batch).await);
}

/// Moves `claim`'s checkpoint from `from` to `to` in a batch of its own, committed when the
/// advance succeeds and rolled back when it does not.
async fn advance<C: CheckpointStore>(
    store: &C,
    claim: &Claim,
    from: u64,
    to: u64,
) -> Result<(), ProjectionError> {
    let mut batch = begin(store).await;
    match store.advance(&mut batch, claim, from, to, LONG_LEASE).await {
        Ok(()) => {
            commit(store, batch).await;
            Ok(())
        }
        Err(error) => {
            rollback(store, batch).await;
            Err(error)
        }
    }
}

/// The state of `key`, which must exist.
async fn state<C: CheckpointStore>(store: &C, key: &ProjectionKey) -> ProjectionState {
    ok(&format!("state of {key}"), store.state(key).await)
        .unwrap_or_else(|| panic_with(&format!("{key} must have a checkpoint")))
}

/// A failure at `position`, its time in whole milliseconds so every store keeps it exactly.
fn sample_failure(position: u64, error: &str) -> Failure {
    let millis = 1_780_000_000_000 + i128::from(position);
    Failure {
        position,
        event_id: Uuid::now_v7(),
        stream_id: format!("Sample-{position}"),
        version: position + 1,
        event_type: "Sampled".to_owned(),
        error: error.to_owned(),
        attempts: 3,
        failed_at: OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
    }
}
