//! The bank views' logic, without a server: `InMemoryBankViews` (transaction `()`) fed by
//! `ProjectionFixture` and by a runner, and the UTC days of the per-day totals.

mod support;

use std::sync::Arc;

use aggregato::prelude::*;
use aggregato::projection::{Context, InMemoryCheckpoints, Projection};
use aggregato::testing::ProjectionFixture;
use aggregato::{EventEnvelope, Metadata, RecordedEvent};
use aggregato_examples::bank::*;
use aggregato_examples::bank_views::memory::{InMemoryBankViews, InMemoryBankViewsEvent};
use aggregato_examples::bank_views::{AccountBalance, DayTotals};
use support::{EXPECTED_SUMS, expected_balances, history, sums};
use time::OffsetDateTime;
use time::macros::{date, datetime};

async fn fed_with_history() -> InMemoryBankViews {
    let mut fixture = ProjectionFixture::new(InMemoryBankViews::default());
    for (stream, events) in history::<InMemoryBankViewsEvent>() {
        fixture = fixture.given(stream, events).await.expect("project");
    }
    fixture.into_projection()
}

#[tokio::test]
async fn the_fixture_fills_balances_and_day_totals() {
    let views = fed_with_history().await;
    let balances: Vec<AccountBalance> = views.balances().cloned().collect();
    assert_eq!(balances, expected_balances());
    assert_eq!(sums(views.days()), EXPECTED_SUMS);
    assert_eq!(views.balance("a").map(|a| a.balance), Some(75));
    assert_eq!(views.balance("nobody"), None);
}

#[tokio::test]
async fn reset_empties_the_views() {
    let mut views = fed_with_history().await;
    views.reset(&mut ()).await.expect("reset");
    assert_eq!(views.balances().count(), 0);
    assert_eq!(views.days().count(), 0);
}

#[test]
fn the_views_read_only_bank_account_events() {
    let filter = InMemoryBankViews::filter();
    assert_eq!(
        filter.allowed_aggregate_types(),
        Some(&["BankAccount".to_owned()][..])
    );
    assert!(filter.matches("BankAccount", "MoneyDeposited"));
    assert!(!filter.matches("Product", "MoneyDeposited"));
}

/// An envelope of a `BankAccount-a` event recorded at `recorded_at`.
fn envelope(position: u64, event_type: &str, recorded_at: OffsetDateTime) -> RecordedEvent {
    EventEnvelope {
        event_id: uuid::Uuid::now_v7(),
        stream_id: "BankAccount-a".into(),
        aggregate_type: "BankAccount".into(),
        version: position,
        position,
        recorded_at,
        event_type: event_type.into(),
        event_version: 1,
        metadata: Metadata::default(),
        payload: (),
    }
}

#[tokio::test]
async fn a_day_is_a_utc_day_whatever_the_recorded_offset() {
    let mut views = InMemoryBankViews::default();
    let opened = AccountOpened {
        account_id: AccountId("a".into()),
        owner: "ann".into(),
    };
    let at = datetime!(2026-03-01 10:00 UTC);
    views
        .project(
            opened,
            &mut Context::new(&envelope(1, "AccountOpened", at), &mut (), false),
        )
        .await
        .expect("open");
    // 23:59:59 UTC, and 00:30 at +02:00 (22:30 UTC): March 1st. 23:30 at -02:00 (01:30 UTC
    // the next day): March 2nd.
    let moves = [
        (datetime!(2026-03-01 23:59:59 UTC), 10, 10),
        (datetime!(2026-03-02 00:30 +02:00), 20, 30),
        (datetime!(2026-03-01 23:30 -02:00), 40, 70),
    ];
    for (n, (at, amount, balance)) in (2..).zip(moves) {
        let envelope = envelope(n, "MoneyDeposited", at);
        views
            .project(
                MoneyDeposited { amount, balance },
                &mut Context::new(&envelope, &mut (), false),
            )
            .await
            .expect("deposit");
    }
    let days: Vec<DayTotals> = views.days().copied().collect();
    let mut first = DayTotals::new(date!(2026 - 03 - 01));
    first.add(10, 0);
    first.add(20, 0);
    let mut second = DayTotals::new(date!(2026 - 03 - 02));
    second.add(40, 0);
    assert_eq!(days, vec![first, second]);
    assert_eq!(views.balance("a").map(|a| a.balance), Some(70));
}

#[tokio::test]
async fn a_runner_builds_and_rebuilds_the_same_views() {
    let store = Arc::new(InMemoryEventStore::new());
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(&store), BankServices::default());
    let a = AccountId("a".into());
    bank.execute(
        &a,
        OpenAccount {
            account_id: a.clone(),
            owner: "ann".into(),
        },
    )
    .await
    .expect("open");
    bank.execute(&a, DepositMoney { amount: 100 })
        .await
        .expect("deposit");
    bank.execute(&a, WithdrawMoney { amount: 30 })
        .await
        .expect("withdraw");

    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        InMemoryBankViews::default(),
    );
    runner.catch_up().await.expect("catch up");
    let built: Vec<DayTotals> = runner.projection().days().copied().collect();
    assert_eq!(sums(&built), (100, 1, 30, 1));

    let progress = runner.rebuild().await.expect("rebuild");
    assert_eq!(progress.handled, 3);
    assert!(progress.replaying, "a rebuild's events are replays");
    let rebuilt: Vec<DayTotals> = runner.projection().days().copied().collect();
    assert_eq!(
        rebuilt, built,
        "reset emptied the views: nothing counted twice"
    );
    assert_eq!(
        runner.projection().balance("a").map(|a| a.balance),
        Some(70)
    );
}
