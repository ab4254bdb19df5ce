//! The projection runner on the in-memory store and checkpoints: catch-up and resume, the
//! filter, retries, stopping or dead-lettering an event that keeps failing, rebuilds with
//! replay flags and progress, one runner at a time, fencing, blue/green versions, live runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aggregato::projection::{
    BoxError, CheckpointStore, Context, InMemoryCheckpoints, OnFailure, Progress, Projection,
    ProjectionError, ProjectionKey, RunOutcome, Status,
};
use aggregato::testing::conformance::sample_event;
use aggregato::{EventFilter, NewEvent, RetryPolicy, prelude::*};
use aggregato_examples::bank::*;

/// Balances per account, with what the runner handed out, and a switch to make one position
/// fail a number of times.
#[derive(Debug, Default)]
struct Balances<const DEAD_LETTER: bool = false, const VERSION: u32 = 1> {
    balances: HashMap<String, u64>,
    handled: Vec<(u64, bool)>,
    recorded_at: Vec<time::OffsetDateTime>,
    fail_at: Option<(u64, u32)>,
    resets: u32,
}

impl<const DEAD_LETTER: bool, const VERSION: u32> Projection for Balances<DEAD_LETTER, VERSION> {
    const NAME: &'static str = "balances";
    const VERSION: u32 = VERSION;
    const ON_FAILURE: OnFailure = if DEAD_LETTER {
        OnFailure::DeadLetter
    } else {
        OnFailure::Stop
    };
    const RESETTABLE: bool = true;
    type Event = BankAccountEvent;
    type Transaction = ();
    type Error = BoxError;

    fn filter() -> EventFilter {
        EventFilter::all().aggregate_types(["BankAccount"])
    }

    async fn dispatch(
        &mut self,
        event: BankAccountEvent,
        context: &mut Context<'_, ()>,
    ) -> Result<(), BoxError> {
        if let Some((position, times)) = &mut self.fail_at
            && *position == context.position()
            && *times > 0
        {
            *times -= 1;
            return Err(format!("cannot project position {position}").into());
        }
        self.handled.push((context.position(), context.is_replay()));
        self.recorded_at.push(context.recorded_at());
        let account = context.aggregate_id().to_owned();
        match event {
            BankAccountEvent::MoneyDeposited(MoneyDeposited { balance, .. })
            | BankAccountEvent::MoneyWithdrawn(MoneyWithdrawn { balance, .. }) => {
                self.balances.insert(account, balance);
            }
            BankAccountEvent::AccountOpened(_) => {
                self.balances.insert(account, 0);
            }
            BankAccountEvent::AccountClosed(_) => {
                self.balances.remove(&account);
            }
        }
        Ok(())
    }

    async fn reset(&mut self, _: &mut ()) -> Result<(), BoxError> {
        self.balances.clear();
        self.resets += 1;
        Ok(())
    }
}

type Store = Arc<InMemoryEventStore>;

/// Opens `accounts` accounts and deposits into each, with an event of another aggregate
/// type after each account; returns the store's last position.
async fn history(store: &Store, accounts: usize, deposits: u64) -> u64 {
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(store), BankServices::default());
    for n in 0..accounts {
        let id = AccountId(format!("acc{n}"));
        let open = OpenAccount {
            account_id: id.clone(),
            owner: format!("owner {n}"),
        };
        bank.execute(&id, open).await.expect("open");
        for _ in 0..deposits {
            bank.execute(&id, DepositMoney { amount: 10 })
                .await
                .expect("deposit");
        }
        store
            .append("Other-1", ExpectedVersion::Any, vec![sample_event(1)])
            .await
            .expect("another aggregate's event");
    }
    store.head_position().await.expect("head").expect("known")
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::immediate(3)
}

#[tokio::test]
async fn catches_up_only_its_aggregates_events_and_resumes_from_the_checkpoint() {
    let store = Store::default();
    let head = history(&store, 3, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Balances::<false>::default(),
    )
    .with_batch_size(4);
    let progress = runner.catch_up().await.expect("catch up");
    assert!(progress.caught_up);
    assert_eq!(
        progress.handled, 9,
        "3 accounts x (open + 2 deposits); the other aggregate's events are filtered out"
    );
    assert_eq!(progress.head, Some(head));
    assert_eq!(runner.projection().balances["acc2"], 20);
    let positions: Vec<u64> = runner
        .projection()
        .handled
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "in global order: {positions:?}"
    );

    // The checkpoint is the last event handled; a new runner resumes after it.
    let key = ProjectionKey::new("balances", 1);
    let state = checkpoints
        .state(&key)
        .await
        .expect("state")
        .expect("a row");
    assert_eq!(
        state.position,
        head - 1,
        "the last handled event precedes the other aggregate's"
    );
    runner.release().await.expect("release");
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(&store), BankServices::default());
    bank.execute(&AccountId("acc0".into()), DepositMoney { amount: 5 })
        .await
        .expect("deposit");
    let mut resumed = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints,
        Balances::<false>::default(),
    );
    let progress = resumed.catch_up().await.expect("resume");
    assert_eq!(progress.handled, 1, "only the new event");
    assert_eq!(resumed.projection().balances["acc0"], 25);
}

#[tokio::test]
async fn a_flaky_handler_is_retried_and_nothing_is_handled_twice() {
    let store = Store::default();
    history(&store, 2, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let projection = Balances::<false> {
        fail_at: Some((3, 2)),
        ..Default::default()
    };
    let mut runner =
        ProjectionRunner::new(Arc::clone(&store), checkpoints, projection).with_retry(fast_retry());
    runner.catch_up().await.expect("the third attempt succeeds");
    let positions: Vec<u64> = runner
        .projection()
        .handled
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(
        positions,
        vec![1, 2, 3, 5, 6, 7],
        "each event once, in order"
    );
}

#[tokio::test]
async fn an_event_that_keeps_failing_stops_the_projection_in_a_queryable_failed_state() {
    let store = Store::default();
    history(&store, 2, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let projection = Balances::<false> {
        fail_at: Some((5, u32::MAX)),
        ..Default::default()
    };
    let mut runner = ProjectionRunner::new(Arc::clone(&store), checkpoints.clone(), projection)
        .with_retry(fast_retry());
    let error = runner.catch_up().await.expect_err("it keeps failing");
    match &error {
        ProjectionError::Failed {
            position,
            attempts,
            error,
            ..
        } => {
            assert_eq!((*position, *attempts), (5, 3));
            assert!(error.contains("cannot project position 5"), "{error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("state")
        .expect("a row");
    assert_eq!(state.status, Status::Failed);
    assert_eq!(
        state.position, 3,
        "the checkpoint stays before the failing event"
    );
    let failure = state.failure.expect("the failure is recorded");
    assert_eq!(
        (failure.position, failure.event_type.as_str()),
        (5, "AccountOpened")
    );
    let positions: Vec<u64> = runner
        .projection()
        .handled
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(
        positions,
        vec![1, 2, 3],
        "events before it were handled once"
    );

    // Fixed (the handler no longer fails), the next run starts with that event and clears the
    // failed state.
    runner.projection_mut().fail_at = None;
    runner.catch_up().await.expect("runs again");
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("state")
        .expect("row");
    assert_eq!((state.status, state.failure), (Status::Running, None));
    assert_eq!(runner.projection().balances["acc1"], 20);
}

#[tokio::test]
async fn a_dead_letter_projection_records_the_event_and_goes_on() {
    let store = Store::default();
    history(&store, 2, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let projection = Balances::<true> {
        fail_at: Some((2, u32::MAX)),
        ..Default::default()
    };
    let mut runner = ProjectionRunner::new(Arc::clone(&store), checkpoints.clone(), projection)
        .with_retry(fast_retry());
    runner
        .catch_up()
        .await
        .expect("goes past the failing event");
    let positions: Vec<u64> = runner
        .projection()
        .handled
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(positions, vec![1, 3, 5, 6, 7]);
    let letters = checkpoints
        .dead_letters(runner.key())
        .await
        .expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (
            letters[0].position,
            letters[0].attempts,
            letters[0].stream_id.as_str()
        ),
        (2, 3, "BankAccount-acc0")
    );
    assert!(letters[0].error.contains("cannot project position 2"));
}

#[tokio::test]
async fn an_event_that_does_not_decode_is_not_retried() {
    let store = Store::default();
    history(&store, 1, 1).await;
    let unknown = NewEvent {
        aggregate_type: "BankAccount".to_owned(),
        event_type: "InterestPaid".to_owned(),
        ..sample_event(0)
    };
    store
        .append("BankAccount-acc0", ExpectedVersion::Any, vec![unknown])
        .await
        .expect("plant");
    let checkpoints = InMemoryCheckpoints::new();
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints,
        Balances::<false>::default(),
    )
    .with_retry(RetryPolicy::exponential(
        5,
        Duration::from_secs(60),
        Duration::from_secs(60),
    ));
    let error = runner.catch_up().await.expect_err("unknown event type");
    assert!(
        matches!(&error, ProjectionError::Failed { position: 4, attempts: 1, event_type, .. } if event_type == "InterestPaid"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_rebuild_resets_then_replays_with_progress_and_replay_flags() {
    let store = Store::default();
    let head = history(&store, 2, 3).await;
    let checkpoints = InMemoryCheckpoints::new();
    let reports = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let seen = Arc::clone(&reports);
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints,
        Balances::<false>::default(),
    )
    .with_batch_size(3)
    .on_progress(move |progress| seen.lock().expect("lock").push(progress.clone()));
    runner.catch_up().await.expect("first run");
    assert!(
        runner
            .projection()
            .handled
            .iter()
            .all(|(_, replay)| !replay)
    );
    let old_checkpoint = runner.claim().expect("claimed").position;

    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(&store), BankServices::default());
    bank.execute(&AccountId("acc1".into()), DepositMoney { amount: 1 })
        .await
        .expect("deposit after the first run");
    runner.projection_mut().handled.clear();
    reports.lock().expect("lock").clear();
    let progress = runner.rebuild().await.expect("rebuild");

    assert_eq!(runner.projection().resets, 1);
    assert_eq!(runner.projection().balances["acc1"], 31);
    let handled = &runner.projection().handled;
    assert_eq!(handled.len(), 9);
    assert!(
        handled
            .iter()
            .all(|(p, replay)| *replay == (*p <= old_checkpoint)),
        "{handled:?}"
    );
    assert_eq!(progress.head, Some(head + 1));
    let reports = reports.lock().expect("lock");
    assert!(
        reports.len() >= 3,
        "a report per batch of 3 and one when caught up: {reports:?}"
    );
    assert!(
        reports
            .windows(2)
            .all(|pair| pair[0].position <= pair[1].position)
    );
    assert!(
        reports
            .last()
            .is_some_and(|last| last.caught_up && last.fraction() == Some(1.0))
    );
}

#[tokio::test]
async fn one_runner_at_a_time_and_a_lost_claim_cannot_commit() {
    let store = Store::default();
    history(&store, 1, 1).await;
    let checkpoints = InMemoryCheckpoints::new();
    let lease = Duration::from_millis(200);
    let mut first = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Balances::<false>::default(),
    )
    .with_lease(lease);
    let mut second = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Balances::<false>::default(),
    )
    .with_lease(lease);
    first.catch_up().await.expect("first claims");
    assert!(matches!(
        second.catch_up().await,
        Err(ProjectionError::Held { .. })
    ));

    // The first one's lease runs out (as in a pause); the second takes over with a higher
    // epoch, and the first one's next commit is refused.
    tokio::time::sleep(lease * 2).await;
    second.catch_up().await.expect("takes over");
    let epochs = (
        first.claim().expect("held").epoch,
        second.claim().expect("held").epoch,
    );
    assert_eq!(epochs.1, epochs.0 + 1);
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(&store), BankServices::default());
    bank.execute(&AccountId("acc0".into()), DepositMoney { amount: 1 })
        .await
        .expect("deposit");
    assert!(matches!(
        first.catch_up().await,
        Err(ProjectionError::Held { .. }) | Err(ProjectionError::Fenced { .. })
    ));
    second.catch_up().await.expect("the holder goes on");
    let state = checkpoints
        .state(second.key())
        .await
        .expect("state")
        .expect("row");
    assert_eq!((state.owner, state.epoch), (Some(second.owner()), epochs.1));
    assert_eq!(second.projection().balances["acc0"], 11);
}

#[tokio::test]
async fn a_new_version_builds_beside_the_old_one_and_takes_over_when_caught_up() {
    let store = Store::default();
    history(&store, 2, 1).await;
    let checkpoints = InMemoryCheckpoints::new();
    let mut v1 = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Balances::<false, 1>::default(),
    );
    v1.catch_up().await.expect("v1");
    let v1_position = v1.claim().expect("claimed").position;
    assert_eq!(
        checkpoints
            .active_version("balances")
            .await
            .expect("active"),
        Some(1)
    );

    let mut v2 = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Balances::<false, 2>::default(),
    );
    v2.catch_up().await.expect("v2 catches up");
    assert!(
        v2.projection()
            .handled
            .iter()
            .all(|(p, replay)| *replay == (*p <= v1_position))
    );
    assert_eq!(
        checkpoints
            .active_version("balances")
            .await
            .expect("active"),
        Some(2)
    );
    let v1_state = checkpoints
        .state(v1.key())
        .await
        .expect("state")
        .expect("row");
    assert_eq!((v1_state.status, v1_state.active), (Status::Retired, false));

    // The old version's runner stops.
    let outcome = v1.run(std::future::pending()).await.expect("run");
    assert_eq!(outcome, RunOutcome::Retired);
}

#[tokio::test]
async fn a_run_follows_the_log_live_until_shut_down() {
    let store = Store::default();
    history(&store, 1, 1).await;
    let checkpoints = InMemoryCheckpoints::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Balances::<false>::default(),
    )
    .with_poll_interval(Duration::from_secs(5))
    .on_progress(move |progress| {
        let _ = progress_tx.send(progress.clone());
    });
    let task = tokio::spawn(async move {
        let outcome = runner
            .run(async {
                let _ = stopped.await;
            })
            .await;
        (outcome, runner)
    });
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(&store), BankServices::default());
    bank.execute(&AccountId("acc0".into()), DepositMoney { amount: 7 })
        .await
        .expect("deposit");
    // The store's wake-up hint brings the deposit in well before the 5 s poll.
    let deposit = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(progress) = progress_rx.recv().await {
            if progress.position == 4 {
                return progress;
            }
        }
        panic!("the runner ended")
    })
    .await
    .expect("the live event arrives");
    assert_eq!(deposit.position, 4);
    stop.send(()).expect("stop");
    let (outcome, runner) = task.await.expect("join");
    assert_eq!(outcome.expect("run"), RunOutcome::Shutdown);
    assert_eq!(runner.projection().balances["acc0"], 17);
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("state")
        .expect("row");
    assert_eq!(state.owner, None, "the claim was given up on shutdown");
}

#[tokio::test]
async fn the_fixture_filters_like_the_runner_and_stamps_the_given_time() {
    use aggregato::testing::ProjectionFixture;
    let noon = time::OffsetDateTime::from_unix_timestamp(1_795_953_600).expect("a time");
    let opened = AccountOpened {
        account_id: AccountId("acc0".into()),
        owner: "ann".into(),
    };
    let deposited = MoneyDeposited {
        amount: 5,
        balance: 5,
    };
    let fixture = ProjectionFixture::new(Balances::<false>::default())
        .at(noon)
        .given(
            "BankAccount-acc0",
            [
                BankAccountEvent::from(opened.clone()),
                deposited.clone().into(),
            ],
        )
        .await
        .expect("given")
        .replaying(true)
        // Another aggregate type: the projection's filter keeps these out, as the store would.
        .given("Ledger-acc0", [BankAccountEvent::from(opened)])
        .await
        .expect("given");
    let balances = fixture.projection();
    assert_eq!(balances.balances["acc0"], 5);
    assert_eq!(balances.handled, vec![(1, false), (2, false)]);
    assert_eq!(balances.recorded_at, vec![noon, noon]);
}

/// Buffers what it is handed and moves it to `flushed` once per batch; the first `failures`
/// flushes fail. A retried batch is handed out again from its first event, so the buffer
/// drops what it held from there on.
#[derive(Debug, Default)]
struct Buffered {
    pending: Vec<u64>,
    flushed: Vec<u64>,
    flushes: u32,
    failures: u32,
}

impl Projection for Buffered {
    const NAME: &'static str = "buffered";
    const VERSION: u32 = 1;
    const ON_FAILURE: OnFailure = OnFailure::Stop;
    const RESETTABLE: bool = false;
    type Event = BankAccountEvent;
    type Transaction = ();
    type Error = BoxError;

    fn filter() -> EventFilter {
        EventFilter::all().aggregate_types(["BankAccount"])
    }

    async fn dispatch(
        &mut self,
        _: BankAccountEvent,
        context: &mut Context<'_, ()>,
    ) -> Result<(), BoxError> {
        let position = context.position();
        self.pending.retain(|held| *held < position);
        self.pending.push(position);
        Ok(())
    }

    async fn flush(&mut self, _: &mut ()) -> Result<(), BoxError> {
        self.flushes += 1;
        if self.failures > 0 {
            self.failures -= 1;
            return Err("the broker is away".into());
        }
        self.flushed.append(&mut self.pending);
        Ok(())
    }
}

#[tokio::test]
async fn flush_runs_once_per_batch_and_a_failed_flush_retries_the_batch() {
    let store = Store::default();
    history(&store, 3, 2).await;
    let projection = Buffered {
        failures: 2,
        ..Default::default()
    };
    let mut runner =
        ProjectionRunner::new(Arc::clone(&store), InMemoryCheckpoints::new(), projection)
            .with_batch_size(4)
            .with_retry(fast_retry())
            .with_name("buffered-to-a-broker");
    runner
        .catch_up()
        .await
        .expect("the third flush of the first batch succeeds");
    assert_eq!(runner.key().name, "buffered-to-a-broker");
    let buffered = runner.projection();
    assert_eq!(
        buffered.flushed,
        vec![1, 2, 3, 5, 6, 7, 9, 10, 11],
        "each event flushed once, in order"
    );
    assert_eq!(
        buffered.flushes,
        2 + 3,
        "two failed flushes, then one per batch of 4, 4 and 1"
    );
    let state = runner
        .checkpoints()
        .state(runner.key())
        .await
        .expect("state")
        .expect("row");
    assert_eq!(state.position, 11);
}
