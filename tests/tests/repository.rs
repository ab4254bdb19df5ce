//! The repository on the in-memory store: load, execute, metadata, retries under contention,
//! corrupt streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aggregato::prelude::*;
use aggregato::store::CorruptionReason;
use aggregato::{DecodeError, NewEvent};
use aggregato_examples::bank::*;
use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

fn account(name: &str) -> AccountId {
    AccountId(name.to_owned())
}

fn open(id: &AccountId) -> OpenAccount {
    OpenAccount {
        account_id: id.clone(),
        owner: "owner".to_owned(),
    }
}

fn bank(store: Arc<InMemoryEventStore>) -> Repository<BankAccount, Arc<InMemoryEventStore>> {
    Repository::new_with_services(store, BankServices::default())
}

#[tokio::test]
async fn execute_commits_events_and_load_replays_them() {
    let store = Arc::new(InMemoryEventStore::new());
    let repo = bank(store.clone());
    let id = account("a1");
    let opened = repo.execute(&id, open(&id)).await.expect("open");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].version, 1);
    assert_eq!(opened[0].stream_id, "BankAccount-a1");
    assert_eq!(opened[0].aggregate_type, "BankAccount");
    repo.execute(&id, DepositMoney { amount: 70 })
        .await
        .expect("deposit");
    let withdrawn = repo
        .execute(&id, WithdrawMoney { amount: 30 })
        .await
        .expect("withdraw");
    assert_eq!(
        withdrawn[0].payload,
        BankAccountEvent::from(MoneyWithdrawn {
            amount: 30,
            balance: 40
        })
    );
    let loaded = repo.load(&id).await.expect("load");
    assert_eq!(loaded.version(), 3);
    assert_eq!(loaded.state().balance(), 40);
    assert!(loaded.uncommitted().is_empty());
    let stored = store.read_stream("BankAccount-a1", 1).await.expect("read");
    let types: Vec<&str> = stored.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"]);
}

#[tokio::test]
async fn a_rejected_command_stores_nothing() {
    let store = Arc::new(InMemoryEventStore::new());
    let repo = bank(store.clone());
    let id = account("a2");
    repo.execute(&id, open(&id)).await.expect("open");
    let error = repo
        .execute(&id, WithdrawMoney { amount: 1 })
        .await
        .expect_err("no funds");
    assert_eq!(
        error.rejection(),
        Some(&BankError::InsufficientFunds {
            balance: 0,
            requested: 1
        })
    );
    let again = repo
        .execute(&id, open(&id))
        .await
        .expect_err("already open");
    assert_eq!(again.rejection(), Some(&BankError::AlreadyOpen));
    assert_eq!(
        store
            .stream_version("BankAccount-a2")
            .await
            .expect("version"),
        1
    );
}

#[tokio::test]
async fn the_injected_risk_engine_can_refuse_a_withdrawal() {
    let mut services = BankServices::default();
    services.risk.max_withdrawal = 100;
    let repo: Repository<BankAccount, _> =
        Repository::new_with_services(InMemoryEventStore::new(), services);
    let id = account("a3");
    repo.execute(&id, open(&id)).await.expect("open");
    repo.execute(&id, DepositMoney { amount: 1_000 })
        .await
        .expect("deposit");
    let error = repo
        .execute(&id, WithdrawMoney { amount: 500 })
        .await
        .expect_err("refused");
    assert!(
        matches!(error.rejection(), Some(BankError::RiskRejected(_))),
        "{error:?}"
    );
    repo.execute(&id, WithdrawMoney { amount: 100 })
        .await
        .expect("within the limit");
}

#[tokio::test]
async fn metadata_lands_on_every_event_of_the_command() {
    let store = Arc::new(InMemoryEventStore::new());
    let repo = bank(store.clone());
    let id = account("a4");
    let correlation = Uuid::now_v7();
    let causation = Uuid::now_v7();
    let metadata = Metadata::new()
        .with_correlation_id(correlation)
        .with_causation_id(causation)
        .with_actor("teller-7")
        .with_extra("channel", json!("branch"));
    repo.execute_with_metadata(&id, open(&id), metadata.clone())
        .await
        .expect("open");
    repo.execute_with_metadata(&id, DepositMoney { amount: 5 }, metadata.clone())
        .await
        .expect("deposit");
    let stored = store.read_stream("BankAccount-a4", 1).await.expect("read");
    assert_eq!(stored.len(), 2);
    for envelope in stored {
        assert_eq!(envelope.metadata, metadata);
    }
}

#[tokio::test]
async fn many_tasks_on_one_aggregate_lose_nothing() {
    const TASKS: usize = 24;
    const DEPOSITS_PER_TASK: u64 = 15;
    let store = Arc::new(InMemoryEventStore::new());
    let repo = bank(store.clone()).with_retry_policy(RetryPolicy::immediate(10_000));
    let id = account("hot");
    repo.execute(&id, open(&id)).await.expect("open");
    let succeeded = Arc::new(AtomicUsize::new(0));
    let deposited = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (repo, id) = (repo.clone(), id.clone());
        let (succeeded, deposited) = (succeeded.clone(), deposited.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..DEPOSITS_PER_TASK {
                let amount = task as u64 * 100 + n + 1;
                match repo.execute(&id, DepositMoney { amount }).await {
                    Ok(committed) => {
                        assert_eq!(committed.len(), 1);
                        succeeded.fetch_add(1, Ordering::SeqCst);
                        deposited.fetch_add(amount as usize, Ordering::SeqCst);
                    }
                    Err(error) => assert!(error.is_conflict(), "only conflicts may fail: {error}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let loaded = repo.load(&id).await.expect("load");
    let succeeded = succeeded.load(Ordering::SeqCst) as u64;
    assert_eq!(
        succeeded,
        TASKS as u64 * DEPOSITS_PER_TASK,
        "retries let every command through"
    );
    assert_eq!(
        loaded.state().balance(),
        deposited.load(Ordering::SeqCst) as u64
    );
    assert_eq!(loaded.version(), 1 + succeeded);
    let stored = store.read_stream("BankAccount-hot", 1).await.expect("read");
    let versions: Vec<u64> = stored.iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=1 + succeeded).collect::<Vec<_>>());
}

/// A store that lets a rival writer append to the stream just before our first append(s),
/// so the repository meets a real concurrency conflict.
struct RivalBeforeAppend {
    inner: InMemoryEventStore,
    rival_appends_left: AtomicUsize,
    appends_attempted: AtomicUsize,
}

#[async_trait]
impl EventStore for RivalBeforeAppend {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.appends_attempted.fetch_add(1, Ordering::SeqCst);
        let rival_due = self
            .rival_appends_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if rival_due {
            // The stream holds the open plus earlier rival deposits of 1,000 each.
            let balance = self.inner.stream_version(stream).await? * 1_000;
            let rival = BankAccountEvent::from(MoneyDeposited {
                amount: 1_000,
                balance,
            });
            let rival =
                NewEvent::encode("BankAccount", &rival, Metadata::new().with_actor("rival"))
                    .map_err(|e| StoreError::Backend(Box::new(e)))?;
            self.inner
                .append(stream, ExpectedVersion::Any, vec![rival])
                .await?;
        }
        self.inner.append(stream, expected, events).await
    }
    async fn read_stream(&self, stream: &str, from: u64) -> Result<Vec<EventEnvelope>, StoreError> {
        self.inner.read_stream(stream, from).await
    }
    async fn read_all_filtered(
        &self,
        after: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.inner.read_all_filtered(after, limit, filter).await
    }
    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.inner.stream_version(stream).await
    }
}

async fn opened_rival_store(id: &AccountId, rivals: usize) -> Arc<RivalBeforeAppend> {
    let store = Arc::new(RivalBeforeAppend {
        inner: InMemoryEventStore::new(),
        rival_appends_left: AtomicUsize::new(0),
        appends_attempted: AtomicUsize::new(0),
    });
    bank_on(store.clone())
        .execute(id, open(id))
        .await
        .expect("open");
    store.rival_appends_left.store(rivals, Ordering::SeqCst);
    store.appends_attempted.store(0, Ordering::SeqCst);
    store
}

fn bank_on(store: Arc<RivalBeforeAppend>) -> Repository<BankAccount, Arc<RivalBeforeAppend>> {
    Repository::new_with_services(store, BankServices::default())
}

#[tokio::test]
async fn a_conflict_is_retried_from_a_fresh_load() {
    let id = account("raced");
    let store = opened_rival_store(&id, 2).await;
    let repo = bank_on(store.clone()).with_retry_policy(RetryPolicy::immediate(3));
    let committed = repo
        .execute(&id, DepositMoney { amount: 5 })
        .await
        .expect("third try wins");
    assert_eq!(store.appends_attempted.load(Ordering::SeqCst), 3);
    // Decided on the state after both rival deposits, so the balance includes them.
    assert_eq!(committed[0].version, 4);
    assert_eq!(
        committed[0].payload,
        BankAccountEvent::from(MoneyDeposited {
            amount: 5,
            balance: 2_005
        })
    );
}

#[tokio::test]
async fn a_conflict_beyond_the_policy_is_an_error_and_stores_nothing_of_ours() {
    let id = account("raced-out");
    let store = opened_rival_store(&id, 5).await;
    let repo = bank_on(store.clone()).with_retry_policy(RetryPolicy::immediate(2));
    let ours = Metadata::new().with_actor("ours");
    let error = repo
        .execute_with_metadata(&id, DepositMoney { amount: 5 }, ours)
        .await
        .expect_err("conflict");
    assert!(error.is_conflict(), "{error}");
    assert_eq!(store.appends_attempted.load(Ordering::SeqCst), 2);
    let stored = store
        .read_stream("BankAccount-raced-out", 1)
        .await
        .expect("read");
    assert!(
        stored
            .iter()
            .all(|e| e.metadata.actor.as_deref() != Some("ours"))
    );
    assert_eq!(
        stored.len(),
        3,
        "open plus two rival deposits, none of ours"
    );
}

#[tokio::test]
async fn a_rejection_is_never_retried() {
    let id = account("rejected");
    let store = opened_rival_store(&id, 0).await;
    let repo = bank_on(store.clone()).with_retry_policy(RetryPolicy::immediate(10));
    let error = repo
        .execute(&id, open(&id))
        .await
        .expect_err("already open");
    assert_eq!(error.rejection(), Some(&BankError::AlreadyOpen));
    assert_eq!(
        store.appends_attempted.load(Ordering::SeqCst),
        0,
        "rejections never reach the store"
    );
}

/// Opens the account `name`, plants a raw second event in its stream, and returns the error
/// loading it gives.
async fn load_after_planting(
    name: &str,
    event_type: &str,
    event_version: u32,
    payload: serde_json::Value,
) -> StoreError {
    let store = Arc::new(InMemoryEventStore::new());
    let id = account(name);
    let repo = bank(store.clone());
    repo.execute(&id, open(&id)).await.expect("open");
    let planted = NewEvent {
        event_id: Uuid::now_v7(),
        aggregate_type: "BankAccount".to_owned(),
        event_type: event_type.to_owned(),
        event_version,
        metadata: Metadata::new(),
        payload: payload.into(),
    };
    store
        .append(
            &format!("BankAccount-{name}"),
            ExpectedVersion::Any,
            vec![planted],
        )
        .await
        .expect("plant");
    match repo.load(&id).await {
        Err(RepositoryError::Store(error)) => error,
        other => panic!("expected a store error, got {other:?}"),
    }
}

#[tokio::test]
async fn corrupt_events_are_typed_errors_naming_stream_and_version() {
    let error = load_after_planting("corrupt", "MoneyTeleported", 1, json!({})).await;
    assert!(
        matches!(
            &error,
            StoreError::Corrupt { stream, version: 2, reason: CorruptionReason::Decode(DecodeError::UnknownEventType { event_type }), .. }
                if stream == "BankAccount-corrupt" && event_type == "MoneyTeleported"
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("BankAccount-corrupt") && message.contains("version 2"),
        "{message}"
    );
}

#[tokio::test]
async fn an_undecodable_payload_is_a_typed_error() {
    let error =
        load_after_planting("badjson", "MoneyDeposited", 1, json!({ "amount": "lots" })).await;
    assert!(
        matches!(&error, StoreError::Corrupt { version: 2, reason: CorruptionReason::Decode(DecodeError::Payload { event_type, .. }), .. } if event_type == "MoneyDeposited"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unknown_schema_version_is_a_typed_error() {
    let error = load_after_planting(
        "future",
        "MoneyDeposited",
        7,
        json!({ "amount": 1, "balance": 1 }),
    )
    .await;
    assert!(
        matches!(
            &error,
            StoreError::Corrupt {
                version: 2,
                reason: CorruptionReason::Decode(DecodeError::UnsupportedVersion {
                    stored: 7,
                    known: 1,
                    ..
                }),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_event_enum_round_trips_through_serde_with_stable_tags() {
    let event = BankAccountEvent::from(MoneyDeposited {
        amount: 3,
        balance: 9,
    });
    let json = serde_json::to_value(&event).expect("serialize");
    assert_eq!(
        json,
        json!({ "type": "MoneyDeposited", "version": 1, "data": { "amount": 3, "balance": 9 } })
    );
    let back: BankAccountEvent = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, event);
    let unknown = serde_json::from_value::<BankAccountEvent>(
        json!({ "type": "Nope", "version": 1, "data": {} }),
    );
    assert!(
        unknown
            .expect_err("unknown")
            .to_string()
            .contains("unknown event type `Nope`")
    );
    assert_eq!(
        <BankAccountEvent as EventSet>::EVENT_TYPES,
        [
            "AccountOpened",
            "MoneyDeposited",
            "MoneyWithdrawn",
            "AccountClosed"
        ]
    );
}

#[tokio::test]
async fn a_shared_dyn_store_works_with_the_repository() {
    let store: Arc<dyn EventStore> = Arc::new(InMemoryEventStore::new());
    let repo: Repository<BankAccount, Arc<dyn EventStore>> =
        Repository::new_with_services(store.clone(), BankServices::default());
    let id = account("dyn");
    repo.execute(&id, open(&id)).await.expect("open");
    assert_eq!(
        store
            .stream_version("BankAccount-dyn")
            .await
            .expect("version"),
        1
    );
}

#[tokio::test]
async fn deposits_and_withdrawals_racing_on_one_account_keep_the_balance_exact() {
    const TASKS: u64 = 12;
    let store = Arc::new(InMemoryEventStore::new());
    let repo = bank(store.clone()).with_retry_policy(RetryPolicy::immediate(10_000));
    let id = account("mixed");
    repo.execute(&id, open(&id)).await.expect("open");
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (repo, id) = (repo.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            // Net effect of each task: +task*10 +30 -20, or less if a withdrawal is refused.
            let mut net: i64 = 0;
            for (deposit, amount) in [(true, task * 10 + 30), (false, 20)] {
                let outcome = if deposit {
                    repo.execute(&id, DepositMoney { amount }).await
                } else {
                    repo.execute(&id, WithdrawMoney { amount }).await
                };
                match outcome {
                    Ok(_) if deposit => net += amount as i64,
                    Ok(_) => net -= amount as i64,
                    Err(error) => assert!(
                        matches!(error.rejection(), Some(BankError::InsufficientFunds { .. })),
                        "{error}"
                    ),
                }
            }
            net
        }));
    }
    let mut expected: i64 = 0;
    for task in tasks {
        expected += task.await.expect("task");
    }
    let stored = store
        .read_stream("BankAccount-mixed", 1)
        .await
        .expect("read");
    let mut replayed: i64 = 0;
    for envelope in &stored[1..] {
        let balance = envelope.payload["balance"].as_i64().expect("balance");
        let amount = envelope.payload["amount"].as_i64().expect("amount");
        replayed += if envelope.event_type == "MoneyDeposited" {
            amount
        } else {
            -amount
        };
        assert_eq!(
            balance, replayed,
            "each event was decided on the state right before it"
        );
    }
    let loaded = repo.load(&id).await.expect("load");
    assert_eq!(loaded.state().balance() as i64, expected);
    assert_eq!(replayed, expected);
}

#[tokio::test]
async fn a_root_can_be_loaded_decided_and_saved_by_hand() {
    let store = Arc::new(InMemoryEventStore::new());
    let repo = bank(store.clone());
    let id = account("by-hand");
    let mut root = repo.load(&id).await.expect("load");
    assert_eq!((root.loaded_version(), root.version()), (0, 0));
    root.handle(open(&id).into(), repo.services())
        .await
        .expect("open");
    root.handle(DepositMoney { amount: 9 }.into(), repo.services())
        .await
        .expect("deposit");
    assert_eq!((root.loaded_version(), root.version()), (0, 2));
    assert_eq!(root.uncommitted().len(), 2);
    assert_eq!(root.state().balance(), 9, "uncommitted events are applied");
    let refused = root
        .handle(WithdrawMoney { amount: 10 }.into(), repo.services())
        .await;
    assert!(refused.is_err());
    assert_eq!(
        root.uncommitted().len(),
        2,
        "a rejection leaves nothing behind"
    );
    let committed = repo.save(&mut root, Metadata::new()).await.expect("save");
    assert_eq!(
        committed.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(root.uncommitted().is_empty());
    assert_eq!(root.loaded_version(), 2);
    // A second root loaded before this save would now conflict.
    let mut stale = AggregateRoot::<BankAccount>::new(id.clone());
    stale
        .handle(open(&id).into(), repo.services())
        .await
        .expect("decides on empty state");
    let error = repo
        .save(&mut stale, Metadata::new())
        .await
        .expect_err("stale");
    assert!(error.is_conflict(), "{error}");
    assert_eq!(
        store
            .stream_version("BankAccount-by-hand")
            .await
            .expect("version"),
        2
    );
}

/// A store that loses version 2 of every stream it reads: the repository must notice.
struct LosesVersionTwo(Arc<InMemoryEventStore>);

#[async_trait]
impl EventStore for LosesVersionTwo {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.0.append(stream, expected, events).await
    }
    async fn read_stream(&self, stream: &str, from: u64) -> Result<Vec<EventEnvelope>, StoreError> {
        let mut events = self.0.read_stream(stream, from).await?;
        events.retain(|event| event.version != 2);
        Ok(events)
    }
    async fn read_all_filtered(
        &self,
        after: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.0.read_all_filtered(after, limit, filter).await
    }
    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.0.stream_version(stream).await
    }
}

#[tokio::test]
async fn a_gap_in_a_stream_is_a_typed_error_not_a_wrong_state() {
    let store = Arc::new(InMemoryEventStore::new());
    let id = account("gappy");
    let writer = bank(store.clone());
    writer.execute(&id, open(&id)).await.expect("open");
    writer
        .execute(&id, DepositMoney { amount: 1 })
        .await
        .expect("v2");
    writer
        .execute(&id, DepositMoney { amount: 1 })
        .await
        .expect("v3");
    let reader: Repository<BankAccount, _> =
        Repository::new_with_services(LosesVersionTwo(store), BankServices::default());
    let error = reader.load(&id).await.expect_err("gap");
    assert!(
        matches!(
            &error,
            RepositoryError::Store(StoreError::Corrupt {
                version: 3,
                reason: CorruptionReason::VersionGap {
                    expected: 2,
                    found: 3
                },
                ..
            })
        ),
        "{error:?}"
    );
}
