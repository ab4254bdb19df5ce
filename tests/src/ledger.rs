//! A ledger aggregate for snapshot tests. Unlike the bank example, every event changes the
//! state additively (a counter of applied events, a running balance, the recent amounts), so
//! an event applied twice or skipped shows up in the state.

use aggregato::prelude::*;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Identifies a ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LedgerId(pub String);

impl std::fmt::Display for LedgerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Opens the ledger.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Ledger)]
pub struct OpenLedger;

/// Posts amounts, one event each, in one command (so one batch may cross a snapshot
/// boundary).
#[derive(Debug, Clone, Command)]
#[command(aggregate = Ledger)]
pub struct Post {
    /// Credits (positive) and debits (negative).
    pub amounts: Vec<i64>,
}

/// Closes the ledger.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Ledger)]
pub struct CloseLedger;

/// The ledger was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct LedgerOpened;

/// An amount was posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct Posted {
    /// The amount.
    pub amount: i64,
}

/// The ledger was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct LedgerClosed;

/// Why the ledger refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// It is open already.
    #[error("already open")]
    AlreadyOpen,
    /// It is not open (never opened, or closed).
    #[error("not open")]
    NotOpen,
    /// The postings would take the balance below zero.
    #[error("balance would go negative")]
    Overdrawn,
}

/// The ledger's state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = LedgerId,
    error = LedgerError,
    events(LedgerOpened, Posted, LedgerClosed),
    commands(OpenLedger, Post, CloseLedger)
)]
pub struct Ledger {
    /// Opened and not closed.
    pub open: bool,
    /// Closed.
    pub closed: bool,
    /// The sum of all postings.
    pub balance: i64,
    /// How many events were applied.
    pub applied: u64,
    /// The last few amounts, newest last.
    pub recent: Vec<i64>,
}

impl Handle<OpenLedger> for Ledger {
    async fn handle(&self, _: OpenLedger, _: &()) -> Result<Vec<LedgerEvent>, LedgerError> {
        if self.open || self.closed {
            return Err(LedgerError::AlreadyOpen);
        }
        Ok(vec![LedgerOpened.into()])
    }
}

impl Handle<Post> for Ledger {
    async fn handle(&self, command: Post, _: &()) -> Result<Vec<LedgerEvent>, LedgerError> {
        if !self.open {
            return Err(LedgerError::NotOpen);
        }
        let mut balance = self.balance;
        for amount in &command.amounts {
            balance += amount;
            if balance < 0 {
                return Err(LedgerError::Overdrawn);
            }
        }
        Ok(command
            .amounts
            .into_iter()
            .map(|amount| Posted { amount }.into())
            .collect())
    }
}

impl Handle<CloseLedger> for Ledger {
    async fn handle(&self, _: CloseLedger, _: &()) -> Result<Vec<LedgerEvent>, LedgerError> {
        if !self.open {
            return Err(LedgerError::NotOpen);
        }
        Ok(vec![LedgerClosed.into()])
    }
}

impl Apply<LedgerOpened> for Ledger {
    fn apply(&mut self, _: &LedgerOpened) {
        self.open = true;
        self.applied += 1;
    }
}

impl Apply<Posted> for Ledger {
    fn apply(&mut self, event: &Posted) {
        self.balance += event.amount;
        self.applied += 1;
        self.recent.push(event.amount);
        if self.recent.len() > 4 {
            self.recent.remove(0);
        }
    }
}

impl Apply<LedgerClosed> for Ledger {
    fn apply(&mut self, _: &LedgerClosed) {
        self.open = false;
        self.closed = true;
        self.applied += 1;
    }
}

/// One of the ledger's commands, for generated command sequences.
#[derive(Debug, Clone)]
pub enum LedgerStep {
    /// [`OpenLedger`].
    Open,
    /// [`Post`].
    Post(Vec<i64>),
    /// [`CloseLedger`].
    Close,
}

impl From<LedgerStep> for LedgerCommand {
    fn from(step: LedgerStep) -> Self {
        match step {
            LedgerStep::Open => OpenLedger.into(),
            LedgerStep::Post(amounts) => Post { amounts }.into(),
            LedgerStep::Close => CloseLedger.into(),
        }
    }
}

/// Runs `steps` on ledger `id` through a repository that snapshots every `every` events,
/// then checks that loading from the newest snapshot plus the tail gives exactly the state
/// and version of a full replay without snapshots, and that a snapshot was used when one was
/// due. Domain rejections are part of the workload; store failures fail the check.
pub async fn check_snapshot_equals_replay<S>(
    store: S,
    id: &LedgerId,
    steps: Vec<LedgerStep>,
    every: u64,
) -> Result<(), String>
where
    S: EventStore + SnapshotStore + Clone,
{
    let snapshotting = Repository::<Ledger, S>::new(store.clone()).with_snapshots_every(every);
    let replaying = Repository::<Ledger, S>::new(store.clone());
    for step in steps {
        match snapshotting.execute(id, step).await {
            Ok(_) | Err(RepositoryError::Rejected(_)) => {}
            Err(other) => return Err(format!("store failure: {other}")),
        }
        let from_snapshot = snapshotting.load(id).await.map_err(|e| e.to_string())?;
        let from_replay = replaying.load(id).await.map_err(|e| e.to_string())?;
        if from_snapshot.version() != from_replay.version()
            || from_snapshot.state() != from_replay.state()
        {
            return Err(format!(
                "snapshot load {:?} at v{} differs from replay {:?} at v{}",
                from_snapshot.state(),
                from_snapshot.version(),
                from_replay.state(),
                from_replay.version()
            ));
        }
        if from_replay.state().applied != from_replay.version() {
            return Err("replay applied a different number of events than stored".into());
        }
    }
    let version = replaying
        .load(id)
        .await
        .map_err(|e| e.to_string())?
        .version();
    let stream = <Ledger as Aggregate>::stream_id(id);
    let snapshot = store
        .load_snapshot(&stream)
        .await
        .map_err(|e| e.to_string())?;
    let newest_due = version / every * every;
    match snapshot {
        None if newest_due > 0 => Err(format!("no snapshot at version {version}, every {every}")),
        Some(snapshot) if snapshot.version > version || snapshot.version < newest_due => {
            Err(format!(
                "snapshot at v{} for a stream at v{version}",
                snapshot.version
            ))
        }
        _ => Ok(()),
    }
}

/// Random ledger command sequences, most of them starting with an open.
pub fn steps() -> impl Strategy<Value = Vec<LedgerStep>> {
    let step = prop_oneof![
        1 => Just(LedgerStep::Open),
        8 => prop::collection::vec(-40i64..100, 0..5).prop_map(LedgerStep::Post),
        1 => Just(LedgerStep::Close),
    ];
    (any::<bool>(), prop::collection::vec(step, 0..40)).prop_map(|(open_first, mut steps)| {
        if open_first {
            steps.insert(0, LedgerStep::Open);
        }
        steps
    })
}

/// The snapshot property on one shared `store`: `cases` random command sequences, each on a
/// ledger of its own, with a random snapshot interval. `runtime` must be the one the store's
/// connections live on. Panics (it is a test) with proptest's minimal failing case.
pub fn snapshot_property_holds<S>(runtime: &tokio::runtime::Runtime, store: S, cases: u32)
where
    S: EventStore + SnapshotStore + Clone,
{
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    let ledgers = std::sync::atomic::AtomicU64::new(0);
    let outcome = runner.run(&(steps(), 1u64..7), |(steps, every)| {
        let n = ledgers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = LedgerId(format!("prop-{n}"));
        let outcome = runtime.block_on(check_snapshot_equals_replay(
            store.clone(),
            &id,
            steps,
            every,
        ));
        prop_assert_eq!(outcome, Ok(()));
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("a snapshot disagreed with a full replay: {failure}");
    }
}
