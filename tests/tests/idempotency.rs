//! Idempotent commands on every store: a retry after a lost reply gets the stored events back,
//! through another repository (another process) or a cached state; racing executions under
//! one key store one batch; a key is per stream; a command that stored nothing runs again.
//! And every command's events carry its id as causation, and a correlation id.

use aggregato::prelude::*;
use aggregato_examples::bank::*;
use uuid::Uuid;

mod support;

fn account(name: &str) -> AccountId {
    AccountId(name.to_owned())
}

fn accounts<S: EventStore + Clone>(store: &S) -> Repository<BankAccount, S> {
    Repository::new_with_services(store.clone(), BankServices::default())
}

async fn opened<S: EventStore + Clone>(store: &S, name: &str) {
    let open = OpenAccount {
        account_id: account(name),
        owner: name.to_owned(),
    };
    accounts(store)
        .execute(&account(name), open)
        .await
        .expect("open");
}

fn ids<E>(events: &[EventEnvelope<E>]) -> Vec<(Uuid, u64)> {
    events.iter().map(|e| (e.event_id, e.version)).collect()
}

async fn a_retried_command_gets_its_stored_events_back<S>(store: S)
where
    S: EventStore + Clone + 'static,
{
    opened(&store, "ann").await;
    let cached = accounts(&store).with_state_cache(8);
    let deposit = || DepositMoney { amount: 10 };
    let first = cached
        .execute_idempotent(&account("ann"), deposit(), "request-1", Metadata::new())
        .await
        .expect("first try");
    assert_eq!(first.len(), 1);

    // The reply was lost; the client retries, through the same repository (its cache holds
    // the state after the deposit) and through another one (another process).
    let again = cached
        .execute_idempotent(&account("ann"), deposit(), "request-1", Metadata::new())
        .await
        .expect("retry, cached");
    let elsewhere = accounts(&store)
        .execute_idempotent(&account("ann"), deposit(), "request-1", Metadata::new())
        .await
        .expect("retry, another repository");
    assert_eq!(ids(&again), ids(&first), "the stored events come back");
    assert_eq!(ids(&elsewhere), ids(&first));
    assert_eq!(again[0].payload, first[0].payload);
    assert_eq!(
        again[0].metadata.causation_id, first[0].metadata.causation_id,
        "the same command id"
    );
    let state = accounts(&store).load(&account("ann")).await.expect("load");
    assert_eq!(
        (state.version(), state.state().balance()),
        (2, 10),
        "deposited once"
    );

    // Another key is another command; the same key on another account too.
    accounts(&store)
        .execute_idempotent(&account("ann"), deposit(), "request-2", Metadata::new())
        .await
        .expect("another key");
    opened(&store, "bob").await;
    let bob = accounts(&store)
        .execute_idempotent(&account("bob"), deposit(), "request-1", Metadata::new())
        .await
        .expect("the same key on another stream");
    assert_ne!(bob[0].event_id, first[0].event_id);
    let ann = accounts(&store).load(&account("ann")).await.expect("load");
    assert_eq!(ann.state().balance(), 20);

    // A command under a key that stored nothing (rejected) runs again when retried.
    let withdraw = || WithdrawMoney { amount: 15 };
    let refused = accounts(&store)
        .execute_idempotent(&account("bob"), withdraw(), "request-3", Metadata::new())
        .await;
    assert!(
        matches!(
            refused,
            Err(RepositoryError::Rejected(
                BankError::InsufficientFunds { .. }
            ))
        ),
        "{refused:?}"
    );
    accounts(&store)
        .execute(&account("bob"), DepositMoney { amount: 10 })
        .await
        .expect("deposit");
    let withdrawn = accounts(&store)
        .execute_idempotent(&account("bob"), withdraw(), "request-3", Metadata::new())
        .await
        .expect("runs again once it can");
    assert_eq!(withdrawn.len(), 1);
}

async fn racing_executions_under_one_key_store_one_batch<S>(store: S)
where
    S: EventStore + Clone + 'static,
{
    opened(&store, "cy").await;
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let repository = accounts(&store);
            tokio::spawn(async move {
                repository
                    .execute_idempotent(
                        &account("cy"),
                        DepositMoney { amount: 7 },
                        "request-race",
                        Metadata::new(),
                    )
                    .await
                    .map(|events| ids(&events))
                    .map_err(|error| error.to_string())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.expect("join").expect("every racer succeeds"));
    }
    assert!(
        outcomes.windows(2).all(|pair| pair[0] == pair[1]),
        "every racer gets the one stored batch: {outcomes:?}"
    );
    let state = accounts(&store).load(&account("cy")).await.expect("load");
    assert_eq!((state.version(), state.state().balance()), (2, 7));
}

async fn every_command_is_the_cause_of_its_events<S>(store: S)
where
    S: EventStore + Clone + 'static,
{
    let open = OpenAccount {
        account_id: account("dee"),
        owner: "dee".to_owned(),
    };
    let opened = accounts(&store)
        .execute(&account("dee"), open)
        .await
        .expect("open");
    let command = opened[0].metadata.causation_id.expect("a causation id");
    assert_eq!(
        opened[0].metadata.correlation_id,
        Some(command),
        "a command with no correlation starts one: its own id"
    );
    let request = Uuid::now_v7();
    let deposited = accounts(&store)
        .execute_with_metadata(
            &account("dee"),
            DepositMoney { amount: 3 },
            Metadata::new().with_correlation_id(request),
        )
        .await
        .expect("deposit");
    assert_eq!(
        deposited[0].metadata.correlation_id,
        Some(request),
        "inherited"
    );
    let cause = deposited[0].metadata.causation_id.expect("a causation id");
    assert_ne!(cause, command, "each command has its own id");
    let stored = store.read_stream("BankAccount-dee", 1).await.expect("read");
    assert_eq!(
        stored[1].metadata.causation_id,
        Some(cause),
        "the store keeps them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_commands_on_every_store() {
    on_every_store!(a_retried_command_gets_its_stored_events_back);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_idempotent_commands_on_every_store() {
    on_every_store!(racing_executions_under_one_key_store_one_batch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn causation_and_correlation_on_every_store() {
    on_every_store!(every_command_is_the_cause_of_its_events);
}
