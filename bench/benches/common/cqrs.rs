//! The bank account on cqrs-es 0.5: one `Aggregate` impl whose `handle` and `apply` match over
//! a command enum and an event enum. The events wrap the very same structs as aggregato's, so
//! their shape is identical.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::MemStore;
use cqrs_es::{AggregateContext, AggregateError, CqrsFramework, EventEnvelope, EventStore};
use serde::{Deserialize, Serialize};

use super::domain::{AccountOpened, BankError, Ledger, MoneyDeposited, MoneyWithdrawn};
use super::workload::{Op, Workload};

/// The commands.
#[derive(Debug, Clone, PartialEq)]
pub enum BankCommand {
    /// Opens the account.
    OpenAccount {
        /// The account's id.
        account_id: String,
    },
    /// Deposits money.
    DepositMoney {
        /// The amount.
        amount: i64,
    },
    /// Withdraws money.
    WithdrawMoney {
        /// The amount.
        amount: i64,
    },
}

/// The events: the same structs as aggregato's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BankEvent {
    /// An account was opened.
    AccountOpened(AccountOpened),
    /// Money was deposited.
    MoneyDeposited(MoneyDeposited),
    /// Money was withdrawn.
    MoneyWithdrawn(MoneyWithdrawn),
}

impl cqrs_es::DomainEvent for BankEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AccountOpened(_) => "AccountOpened",
            Self::MoneyDeposited(_) => "MoneyDeposited",
            Self::MoneyWithdrawn(_) => "MoneyWithdrawn",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// A bank account on cqrs-es.
/// (`Clone` because `MemStore<A>` is `Clone` only when `A` is.)
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CqrsAccount {
    /// The state and its rules.
    pub ledger: Ledger,
}

impl cqrs_es::Aggregate for CqrsAccount {
    const TYPE: &'static str = "Account";
    type Command = BankCommand;
    type Event = BankEvent;
    type Error = BankError;
    type Services = ();

    async fn handle(
        &mut self,
        command: BankCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), BankError> {
        let event = match command {
            BankCommand::OpenAccount { account_id } => {
                BankEvent::AccountOpened(self.ledger.open(account_id)?)
            }
            BankCommand::DepositMoney { amount } => {
                BankEvent::MoneyDeposited(self.ledger.deposit(amount)?)
            }
            BankCommand::WithdrawMoney { amount } => {
                BankEvent::MoneyWithdrawn(self.ledger.withdraw(amount)?)
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: BankEvent) {
        match &event {
            BankEvent::AccountOpened(opened) => self.ledger.opened(opened),
            BankEvent::MoneyDeposited(deposited) => self.ledger.deposited(deposited),
            BankEvent::MoneyWithdrawn(withdrawn) => self.ledger.withdrawn(withdrawn),
        }
    }
}

/// The command for `op` on account `account_id`.
pub fn command(op: Op, account_id: &str) -> BankCommand {
    match op {
        Op::Open => BankCommand::OpenAccount {
            account_id: account_id.to_owned(),
        },
        Op::Deposit(amount) => BankCommand::DepositMoney { amount },
        Op::Withdraw(amount) => BankCommand::WithdrawMoney { amount },
    }
}

/// The event `op` produces on account `account_id` (for seeding a stream directly).
pub fn event(op: Op, account_id: &str) -> BankEvent {
    match op {
        Op::Open => BankEvent::AccountOpened(AccountOpened {
            account_id: account_id.to_owned(),
        }),
        Op::Deposit(amount) => BankEvent::MoneyDeposited(MoneyDeposited { amount }),
        Op::Withdraw(amount) => BankEvent::MoneyWithdrawn(MoneyWithdrawn { amount }),
    }
}

/// cqrs-es on its `MemStore`, as shipped (it prints two lines to stdout per command).
pub fn mem_store_framework(
    store: MemStore<CqrsAccount>,
) -> CqrsFramework<CqrsAccount, MemStore<CqrsAccount>> {
    CqrsFramework::new(store, Vec::new(), ())
}

/// cqrs-es on [`QuietMemStore`].
pub fn quiet_framework(store: QuietMemStore) -> CqrsFramework<CqrsAccount, QuietMemStore> {
    CqrsFramework::new(store, Vec::new(), ())
}

/// Executes `steps` (account index, op) in order.
pub async fn run_ops<S: EventStore<CqrsAccount>>(
    cqrs: &CqrsFramework<CqrsAccount, S>,
    ids: &[String],
    steps: impl IntoIterator<Item = (usize, Op)>,
) {
    for (account, op) in steps {
        let id = &ids[account];
        cqrs.execute(id, command(op, id))
            .await
            .unwrap_or_else(|error| panic!("cqrs-es: {op:?} on {id} failed: {error}"));
    }
}

/// Executes the whole workload, one command after the other.
pub async fn run<S: EventStore<CqrsAccount>>(
    cqrs: &CqrsFramework<CqrsAccount, S>,
    ids: &[String],
    workload: &Workload,
) {
    run_ops(cqrs, ids, workload.ops()).await;
}

/// Executes the workload with `clients` concurrent clients on disjoint accounts.
pub async fn run_concurrently<S>(
    cqrs: &Arc<CqrsFramework<CqrsAccount, S>>,
    ids: &[String],
    workload: &Workload,
    clients: usize,
) where
    S: EventStore<CqrsAccount> + 'static,
    S::AC: Send,
{
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (cqrs, ids, workload) = (Arc::clone(cqrs), ids.to_vec(), *workload);
            tokio::spawn(async move {
                run_ops(&cqrs, &ids, workload.ops_of_client(client, clients)).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client task panicked");
    }
}

/// Loads every account from `store` and checks its balance; panics otherwise.
pub async fn verify<S: EventStore<CqrsAccount>>(
    framework: &str,
    store: &S,
    ids: &[String],
    workload: &Workload,
) {
    let mut balances = Vec::with_capacity(ids.len());
    for id in ids {
        let mut context = store
            .load_aggregate(id)
            .await
            .unwrap_or_else(|error| panic!("{framework}: loading {id} failed: {error}"));
        balances.push(context.aggregate().ledger.balance);
    }
    workload.verify(framework, |index| balances[index]);
}

type Streams = HashMap<String, Vec<EventEnvelope<CqrsAccount>>>;

/// cqrs-es's `MemStore` line for line, less its two `println!` per command (a `load_events`
/// and a `commit` line), to show what the framework costs without the console.
#[derive(Debug, Clone, Default)]
pub struct QuietMemStore {
    events: Arc<RwLock<Streams>>,
}

/// What [`QuietMemStore`] loads: the same as `MemStoreAggregateContext`.
pub struct QuietContext {
    aggregate_id: String,
    aggregate: CqrsAccount,
    current_sequence: usize,
}

impl AggregateContext<CqrsAccount> for QuietContext {
    fn aggregate(&mut self) -> &mut CqrsAccount {
        &mut self.aggregate
    }
}

impl QuietMemStore {
    fn load_committed_events(&self, aggregate_id: &str) -> Vec<EventEnvelope<CqrsAccount>> {
        self.events
            .read()
            .expect("the store's lock")
            .get(aggregate_id)
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

impl EventStore<CqrsAccount> for QuietMemStore {
    type AC = QuietContext;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<CqrsAccount>>, AggregateError<BankError>> {
        Ok(self.load_committed_events(aggregate_id))
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<QuietContext, AggregateError<BankError>> {
        let committed_events = self.load_events(aggregate_id).await?;
        let mut aggregate = CqrsAccount::default();
        let mut current_sequence = 0;
        for envelope in committed_events {
            current_sequence = envelope.sequence;
            cqrs_es::Aggregate::apply(&mut aggregate, envelope.payload);
        }
        Ok(QuietContext {
            aggregate_id: aggregate_id.to_owned(),
            aggregate,
            current_sequence,
        })
    }

    async fn commit(
        &self,
        events: Vec<BankEvent>,
        context: QuietContext,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<CqrsAccount>>, AggregateError<BankError>> {
        let mut sequence = context.current_sequence;
        let wrapped_events: Vec<_> = events
            .into_iter()
            .map(|payload| {
                sequence += 1;
                EventEnvelope {
                    aggregate_id: context.aggregate_id.clone(),
                    sequence,
                    payload,
                    metadata: metadata.clone(),
                }
            })
            .collect();
        if wrapped_events.is_empty() {
            return Ok(Vec::new());
        }
        let mut new_events = self.load_committed_events(&context.aggregate_id);
        new_events.extend(wrapped_events.iter().cloned());
        self.events
            .write()
            .expect("the store's lock")
            .insert(context.aggregate_id, new_events);
        Ok(wrapped_events)
    }
}

/// Commits the events of `ops` to account `account_id` in one batch, through the store's own
/// `commit` (for seeding a stream without a command per event).
pub async fn seed<S: EventStore<CqrsAccount>>(
    store: &S,
    account_id: &str,
    ops: impl IntoIterator<Item = Op>,
) {
    let context = store
        .load_aggregate(account_id)
        .await
        .expect("cqrs-es: load before seeding");
    let events = ops.into_iter().map(|op| event(op, account_id)).collect();
    store
        .commit(events, context, HashMap::new())
        .await
        .expect("cqrs-es: seed a stream");
}
