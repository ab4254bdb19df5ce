//! The bank account on aggregato: `#[derive(Aggregate)]` with one `Handle`/`Apply` impl per
//! type, run through `aggregato::Repository`.

use aggregato::prelude::*;
use aggregato::{EventStore, NewEvent};
use serde::{Deserialize, Serialize};

use super::domain::{AccountOpened, BankError, Ledger, MoneyDeposited, MoneyWithdrawn};
use super::workload::{Op, Workload};

/// Opens an account.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct OpenAccount {
    /// The account's id.
    pub account_id: String,
}

/// Deposits money.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct DepositMoney {
    /// The amount.
    pub amount: i64,
}

/// Withdraws money.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct WithdrawMoney {
    /// The amount.
    pub amount: i64,
}

/// A bank account (the derive generates `AccountEvent`, `AccountCommand` and the dispatch).
#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = String,
    error = BankError,
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn),
    commands(OpenAccount, DepositMoney, WithdrawMoney)
)]
pub struct Account {
    /// The state and its rules.
    pub ledger: Ledger,
}

impl Handle<OpenAccount> for Account {
    async fn handle(&self, command: OpenAccount, _: &()) -> Result<Vec<AccountEvent>, BankError> {
        Ok(vec![self.ledger.open(command.account_id)?.into()])
    }
}

impl Handle<DepositMoney> for Account {
    async fn handle(&self, command: DepositMoney, _: &()) -> Result<Vec<AccountEvent>, BankError> {
        Ok(vec![self.ledger.deposit(command.amount)?.into()])
    }
}

impl Handle<WithdrawMoney> for Account {
    async fn handle(&self, command: WithdrawMoney, _: &()) -> Result<Vec<AccountEvent>, BankError> {
        Ok(vec![self.ledger.withdraw(command.amount)?.into()])
    }
}

impl Apply<AccountOpened> for Account {
    fn apply(&mut self, event: &AccountOpened) {
        self.ledger.opened(event);
    }
}

impl Apply<MoneyDeposited> for Account {
    fn apply(&mut self, event: &MoneyDeposited) {
        self.ledger.deposited(event);
    }
}

impl Apply<MoneyWithdrawn> for Account {
    fn apply(&mut self, event: &MoneyWithdrawn) {
        self.ledger.withdrawn(event);
    }
}

/// The capacity of the state cache: more than the accounts of any workload, so every
/// command after an account's first finds it cached.
pub const STATE_CACHE_CAPACITY: usize = 4096;

/// The repository every "ours" benchmark uses: with the state cache
/// ([`Repository::with_state_cache`]), so a command on a known account neither reads nor
/// replays its stream. The "full replay" variants use [`full_replay_repository`].
pub fn repository<S: EventStore>(store: S) -> Repository<Account, S> {
    Repository::new(store).with_state_cache(STATE_CACHE_CAPACITY)
}

/// A plain repository: every command replays the account's whole stream.
pub fn full_replay_repository<S: EventStore>(store: S) -> Repository<Account, S> {
    Repository::new(store)
}

/// The command for `op` on account `account_id`.
pub fn command(op: Op, account_id: &str) -> AccountCommand {
    match op {
        Op::Open => OpenAccount {
            account_id: account_id.to_owned(),
        }
        .into(),
        Op::Deposit(amount) => DepositMoney { amount }.into(),
        Op::Withdraw(amount) => WithdrawMoney { amount }.into(),
    }
}

/// The event `op` produces on account `account_id` (for seeding a stream directly).
pub fn event(op: Op, account_id: &str) -> AccountEvent {
    match op {
        Op::Open => AccountOpened {
            account_id: account_id.to_owned(),
        }
        .into(),
        Op::Deposit(amount) => MoneyDeposited { amount }.into(),
        Op::Withdraw(amount) => MoneyWithdrawn { amount }.into(),
    }
}

/// The events of `ops` on account `account_id`, encoded for `EventStore::append`.
pub fn encoded_events(ops: impl IntoIterator<Item = Op>, account_id: &str) -> Vec<NewEvent> {
    ops.into_iter()
        .map(|op| {
            NewEvent::encode(
                Account::AGGREGATE_TYPE,
                &event(op, account_id),
                Metadata::default(),
            )
            .expect("encode an event")
        })
        .collect()
}

/// Executes `steps` (account index, op) in order.
pub async fn run_ops<S: EventStore>(
    repository: &Repository<Account, S>,
    ids: &[String],
    steps: impl IntoIterator<Item = (usize, Op)>,
) {
    for (account, op) in steps {
        let id = &ids[account];
        repository
            .execute(id, command(op, id))
            .await
            .unwrap_or_else(|error| panic!("aggregato: {op:?} on {id} failed: {error}"));
    }
}

/// Executes the whole workload, one command after the other.
pub async fn run<S: EventStore>(
    repository: &Repository<Account, S>,
    ids: &[String],
    workload: &Workload,
) {
    run_ops(repository, ids, workload.ops()).await;
}

/// Executes the workload with `clients` concurrent clients on disjoint accounts.
pub async fn run_concurrently<S: EventStore + Clone + 'static>(
    repository: &Repository<Account, S>,
    ids: &[String],
    workload: &Workload,
    clients: usize,
) {
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (repository, ids, workload) = (repository.clone(), ids.to_vec(), *workload);
            tokio::spawn(async move {
                run_ops(&repository, &ids, workload.ops_of_client(client, clients)).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client task panicked");
    }
}

/// Loads every account and checks its balance; panics otherwise.
pub async fn verify<S: EventStore>(
    framework: &str,
    repository: &Repository<Account, S>,
    ids: &[String],
    workload: &Workload,
) {
    let mut balances = Vec::with_capacity(ids.len());
    for id in ids {
        let root = repository
            .load(id)
            .await
            .unwrap_or_else(|error| panic!("{framework}: loading {id} failed: {error}"));
        balances.push(root.state().ledger.balance);
    }
    workload.verify(framework, |index| balances[index]);
}
