//! `ProjectionRunner::run` meets a checkpoint store that fails for a moment (its database
//! restarting) while it is caught up and renewing its claim: it keeps running, claims
//! again and goes on, as it does when a batch fails. (Found by `projection_processes.rs`'s
//! outage test, where the renewal's error ended the run and the process.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aggregato::prelude::*;
use aggregato::projection::{
    BoxError, CheckpointStore, Claim, Context, DeadLetter, Failure, InMemoryCheckpoints,
    ProjectionError, ProjectionKey, ProjectionState, RunOutcome,
};
use aggregato::{Metadata, NewEvent};
use aggregato_examples::bank::{AccountId, AccountOpened, BankAccount, BankAccountEvent};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// In-memory checkpoints whose next `failing_renewals` renewals fail, as a renewal does when
/// its connection is cut.
#[derive(Clone, Default)]
struct FlakyRenewals {
    inner: InMemoryCheckpoints,
    failing_renewals: Arc<AtomicU32>,
}

impl CheckpointStore for FlakyRenewals {
    type Transaction = ();
    type Batch = <InMemoryCheckpoints as CheckpointStore>::Batch;
    const ROLLS_BACK_HANDLERS: bool = <InMemoryCheckpoints as CheckpointStore>::ROLLS_BACK_HANDLERS;

    async fn claim(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<Claim>, ProjectionError> {
        self.inner.claim(key, owner, lease).await
    }

    async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, ProjectionError> {
        let fail = self
            .failing_renewals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if fail {
            return Err(ProjectionError::checkpoint("connection reset by peer"));
        }
        self.inner.renew(claim, lease).await
    }

    async fn release(&self, claim: &Claim) -> Result<(), ProjectionError> {
        self.inner.release(claim).await
    }

    async fn begin(&self) -> Result<Self::Batch, ProjectionError> {
        self.inner.begin().await
    }

    fn transaction(batch: &mut Self::Batch) -> &mut Self::Transaction {
        InMemoryCheckpoints::transaction(batch)
    }

    async fn advance(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
        to: u64,
        lease: Duration,
    ) -> Result<(), ProjectionError> {
        self.inner.advance(batch, claim, from, to, lease).await
    }

    async fn dead_letter(
        &self,
        batch: &mut Self::Batch,
        key: &ProjectionKey,
        letter: &DeadLetter,
    ) -> Result<(), ProjectionError> {
        self.inner.dead_letter(batch, key, letter).await
    }

    async fn rewind(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
    ) -> Result<(), ProjectionError> {
        self.inner.rewind(batch, claim, from).await
    }

    async fn activate(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
    ) -> Result<(), ProjectionError> {
        self.inner.activate(batch, claim).await
    }

    async fn commit(&self, batch: Self::Batch) -> Result<(), ProjectionError> {
        self.inner.commit(batch).await
    }

    async fn rollback(&self, batch: Self::Batch) -> Result<(), ProjectionError> {
        self.inner.rollback(batch).await
    }

    async fn mark_failed(&self, claim: &Claim, failure: &Failure) -> Result<(), ProjectionError> {
        self.inner.mark_failed(claim, failure).await
    }

    async fn state(&self, key: &ProjectionKey) -> Result<Option<ProjectionState>, ProjectionError> {
        self.inner.state(key).await
    }

    async fn dead_letters(&self, key: &ProjectionKey) -> Result<Vec<DeadLetter>, ProjectionError> {
        self.inner.dead_letters(key).await
    }

    async fn active_version(&self, name: &str) -> Result<Option<u32>, ProjectionError> {
        self.inner.active_version(name).await
    }
}

#[derive(Debug, Default, Projection)]
#[projection(events(AccountOpened), aggregates(BankAccount))]
struct Openings;

impl Project<AccountOpened> for Openings {
    async fn project(&mut self, _: AccountOpened, _: &mut Context<'_, ()>) -> Result<(), BoxError> {
        Ok(())
    }
}

async fn open(store: &InMemoryEventStore, account: &str) {
    let event: BankAccountEvent = AccountOpened {
        account_id: AccountId(account.to_owned()),
        owner: account.to_owned(),
    }
    .into();
    let encoded = NewEvent::encode("BankAccount", &event, Metadata::new()).expect("encode");
    store
        .append(
            &format!("BankAccount-{account}"),
            ExpectedVersion::NoStream,
            vec![encoded],
        )
        .await
        .expect("append");
}

#[tokio::test]
async fn a_failed_renewal_does_not_end_the_run() {
    let store = Arc::new(InMemoryEventStore::new());
    open(&store, "a").await;
    let checkpoints = FlakyRenewals::default();
    let failing = Arc::clone(&checkpoints.failing_renewals);
    let (caught_up, mut caught_ups) = mpsc::unbounded_channel();
    let mut runner = ProjectionRunner::new(Arc::clone(&store), checkpoints, Openings)
        .with_lease(Duration::from_millis(300))
        .with_poll_interval(Duration::from_millis(20))
        .with_claim_interval(Duration::from_millis(20))
        .on_progress(move |progress| {
            if progress.caught_up {
                let _ = caught_up.send(progress.position);
            }
        });
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        runner
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let wait = Duration::from_secs(5);
    let first = tokio::time::timeout(wait, caught_ups.recv()).await;
    assert_eq!(
        first.ok().flatten(),
        Some(1),
        "caught up with the first event"
    );

    failing.store(1, Ordering::SeqCst);
    tokio::time::timeout(wait, async {
        while failing.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the runner renewed its claim, and the renewal failed");

    open(&store, "b").await;
    let second = tokio::time::timeout(wait, async {
        loop {
            match caught_ups.recv().await {
                Some(2) | None => return caught_ups.is_closed(),
                Some(_) => {}
            }
        }
    })
    .await;
    assert_eq!(
        second.ok(),
        Some(false),
        "after the failed renewal the run went on and handled the next event"
    );
    assert!(!run.is_finished(), "the run is still going");
    let _ = stop.send(());
    let outcome = run.await.expect("the run's task");
    assert_eq!(outcome.expect("the run ends cleanly"), RunOutcome::Shutdown);
}
