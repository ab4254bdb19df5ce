//! `#[derive(Projection)]` through the public API: the filter it generates, its event enum
//! decoding what repositories stored, and its dispatch to the `Project<E>` impls; and the
//! constants and hooks its options set.

use std::collections::BTreeMap;
use std::sync::Arc;

use aggregato::prelude::*;
use aggregato::projection::{BoxError, Context, OnFailure};
use aggregato_tests::ledger::{Ledger, LedgerId, OpenLedger};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct AccountOpened;

/// Stored as `Deposited` before it was renamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aliases("Deposited"))]
pub struct MoneyDeposited {
    pub amount: u64,
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, name = "BankAccount", events(AccountOpened, MoneyDeposited), commands(Deposit))]
pub struct Account {
    open: bool,
}

impl Handle<Deposit> for Account {
    async fn handle(
        &self,
        command: Deposit,
        _: &(),
    ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        let deposit = MoneyDeposited {
            amount: command.amount,
        };
        if self.open {
            Ok(vec![deposit.into()])
        } else {
            Ok(vec![AccountOpened.into(), deposit.into()])
        }
    }
}

impl Apply<AccountOpened> for Account {
    fn apply(&mut self, _: &AccountOpened) {
        self.open = true;
    }
}

impl Apply<MoneyDeposited> for Account {
    fn apply(&mut self, _: &MoneyDeposited) {}
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct OrderPlaced {
    pub total: u64,
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Shop)]
pub struct PlaceOrder {
    pub total: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(OrderPlaced), commands(PlaceOrder))]
pub struct Shop;

impl Handle<PlaceOrder> for Shop {
    async fn handle(
        &self,
        command: PlaceOrder,
        _: &(),
    ) -> Result<Vec<ShopEvent>, std::convert::Infallible> {
        Ok(vec![
            OrderPlaced {
                total: command.total,
            }
            .into(),
        ])
    }
}

impl Apply<OrderPlaced> for Shop {
    fn apply(&mut self, _: &OrderPlaced) {}
}

/// Deposits and orders per aggregate id, from two aggregates' events.
#[derive(Debug, Default, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, OrderPlaced),
    aggregates(Account, Shop)
)]
pub struct Activity {
    opened: Vec<String>,
    deposited: BTreeMap<String, u64>,
    ordered: BTreeMap<String, u64>,
    replayed: usize,
}

impl Project<AccountOpened> for Activity {
    async fn project(
        &mut self,
        _: AccountOpened,
        context: &mut Context<'_, ()>,
    ) -> Result<(), BoxError> {
        self.opened.push(context.aggregate_id().to_owned());
        self.replayed += usize::from(context.is_replay());
        Ok(())
    }
}

impl Project<MoneyDeposited> for Activity {
    async fn project(
        &mut self,
        event: MoneyDeposited,
        context: &mut Context<'_, ()>,
    ) -> Result<(), BoxError> {
        *self
            .deposited
            .entry(context.aggregate_id().to_owned())
            .or_default() += event.amount;
        Ok(())
    }
}

impl Project<OrderPlaced> for Activity {
    async fn project(
        &mut self,
        event: OrderPlaced,
        context: &mut Context<'_, ()>,
    ) -> Result<(), BoxError> {
        *self
            .ordered
            .entry(context.aggregate_id().to_owned())
            .or_default() += event.total;
        Ok(())
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|&name| name.to_owned()).collect()
}

#[test]
fn the_filter_names_the_listed_events_with_their_aliases_and_the_listed_aggregates() {
    let filter = Activity::filter();
    assert_eq!(
        filter.allowed_event_types(),
        Some(
            &strings(&[
                "AccountOpened",
                "MoneyDeposited",
                "Deposited",
                "OrderPlaced"
            ])[..]
        )
    );
    assert_eq!(
        filter.allowed_aggregate_types(),
        Some(&strings(&["BankAccount", "Shop"])[..])
    );
    assert!(filter.matches("BankAccount", "Deposited"));
    assert!(!filter.matches("Ledger", "MoneyDeposited"));
}

#[test]
fn defaults_name_the_type_at_version_one_stopping_on_failure() {
    assert_eq!(Activity::NAME, "Activity");
    assert_eq!(Activity::VERSION, 1);
    assert_eq!(Activity::ON_FAILURE, OnFailure::Stop);
    const { assert!(!Activity::RESETTABLE) };
}

#[tokio::test]
async fn stored_events_decode_into_the_enum_and_dispatch_to_their_handlers() -> Result<(), BoxError>
{
    let store = Arc::new(InMemoryEventStore::new());
    let accounts = Repository::<Account, _>::new(Arc::clone(&store));
    let shops = Repository::<Shop, _>::new(Arc::clone(&store));
    accounts
        .execute(&"alice".to_owned(), Deposit { amount: 5 })
        .await?;
    shops
        .execute(&"corner".to_owned(), PlaceOrder { total: 12 })
        .await?;
    accounts
        .execute(&"alice".to_owned(), Deposit { amount: 3 })
        .await?;
    accounts
        .execute(&"bob".to_owned(), Deposit { amount: 1 })
        .await?;
    // An aggregate the projection does not list: its events stay in the store.
    let ledgers = Repository::<Ledger, _>::new(Arc::clone(&store));
    ledgers
        .execute(&LedgerId("l1".to_owned()), OpenLedger)
        .await?;
    assert_eq!(store.read_all(0, 100).await?.len(), 7);

    let stored = store.read_all_filtered(0, 100, &Activity::filter()).await?;
    assert_eq!(stored.len(), 6);
    let mut activity = Activity::default();
    let mut decoded = Vec::new();
    for envelope in stored {
        let typed = envelope.decode::<ActivityEvent>()?;
        let event = typed.payload.clone();
        decoded.push(event.clone());
        let recorded = typed.with_payload(());
        activity
            .dispatch(event, &mut Context::new(&recorded, &mut (), false))
            .await?;
    }
    assert_eq!(decoded[0], ActivityEvent::from(AccountOpened));
    assert_eq!(decoded[1], MoneyDeposited { amount: 5 }.into());
    assert_eq!(decoded[2], OrderPlaced { total: 12 }.into());
    assert_eq!(activity.opened, strings(&["alice", "bob"]));
    assert_eq!(
        activity.deposited,
        BTreeMap::from([("alice".to_owned(), 8), ("bob".to_owned(), 1)])
    );
    assert_eq!(
        activity.ordered,
        BTreeMap::from([("corner".to_owned(), 12)])
    );
    assert_eq!(activity.replayed, 0);
    Ok(())
}

#[test]
fn an_event_stored_under_its_former_name_decodes() -> Result<(), aggregato::DecodeError> {
    let payload = serde_json::json!({ "amount": 4 });
    let event = ActivityEvent::decode("Deposited", 1, &payload)?;
    assert_eq!(event, MoneyDeposited { amount: 4 }.into());
    assert!(ActivityEvent::decode("LedgerOpened", 1, &payload).is_err());
    Ok(())
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("the read model refused deposit of {0}")]
pub struct Refused(u64);

/// A log of what was written through the transaction, standing in for a database.
type Journal = Vec<String>;

/// Every option set: a name, a version, dead letters, a reset and an activation hook, a
/// transaction and an error of its own.
#[derive(Debug, Default, Projection)]
#[projection(
    events(MoneyDeposited),
    transaction = Journal,
    error = Refused,
    name = "totals",
    version = 3,
    dead_letter,
    reset = truncate,
    activate = swap_view,
)]
pub struct Totals {
    total: u64,
    active: bool,
}

impl Totals {
    async fn truncate(&mut self, journal: &mut Journal) -> Result<(), Refused> {
        self.total = 0;
        journal.push("truncated".to_owned());
        Ok(())
    }

    async fn swap_view(&mut self, journal: &mut Journal) -> Result<(), Refused> {
        self.active = true;
        journal.push("swapped".to_owned());
        Ok(())
    }
}

impl Project<MoneyDeposited> for Totals {
    async fn project(
        &mut self,
        event: MoneyDeposited,
        context: &mut Context<'_, Journal>,
    ) -> Result<(), Refused> {
        if event.amount == 0 {
            return Err(Refused(0));
        }
        self.total += event.amount;
        context.transaction().push(format!("+{}", event.amount));
        Ok(())
    }
}

#[test]
fn options_set_the_constants() {
    assert_eq!(Totals::NAME, "totals");
    assert_eq!(Totals::VERSION, 3);
    assert_eq!(Totals::ON_FAILURE, OnFailure::DeadLetter);
    const { assert!(Totals::RESETTABLE) };
    let filter = Totals::filter();
    assert_eq!(
        filter.allowed_event_types(),
        Some(&strings(&["MoneyDeposited", "Deposited"])[..])
    );
    assert_eq!(filter.allowed_aggregate_types(), None);
}

#[tokio::test]
async fn dispatch_writes_through_the_transaction_and_the_hooks_run_the_named_methods()
-> Result<(), BoxError> {
    let store = Arc::new(InMemoryEventStore::new());
    let accounts = Repository::<Account, _>::new(Arc::clone(&store));
    accounts
        .execute(&"alice".to_owned(), Deposit { amount: 7 })
        .await?;
    let stored = store.read_all_filtered(0, 10, &Totals::filter()).await?;
    let [deposit] = &stored[..] else {
        panic!("one deposit stored, got {stored:?}");
    };
    let typed = deposit.clone().decode::<TotalsEvent>()?;
    let recorded = typed.clone().with_payload(());

    let mut totals = Totals::default();
    let mut journal = Journal::new();
    totals
        .dispatch(
            typed.payload,
            &mut Context::new(&recorded, &mut journal, true),
        )
        .await?;
    assert_eq!(totals.total, 7);

    let refused = totals
        .dispatch(
            MoneyDeposited { amount: 0 }.into(),
            &mut Context::new(&recorded, &mut journal, false),
        )
        .await;
    assert_eq!(refused, Err(Refused(0)));

    totals.activate(&mut journal).await?;
    assert!(totals.active);
    totals.reset(&mut journal).await?;
    assert_eq!(totals.total, 0);
    assert_eq!(journal, strings(&["+7", "swapped", "truncated"]));
    Ok(())
}
