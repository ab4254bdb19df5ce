//! The Redis bank views against the live Redis named by `REDIS_URL` (e.g.
//! `redis://127.0.0.1:6379`; `.ci/run` starts one and sets it). Each test works under a key
//! prefix of its own. Without `REDIS_URL` the tests say they are skipped (and are counted as
//! ignored when built without it); in CI they fail instead.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aggregato::prelude::*;
use aggregato::projection::{InMemoryCheckpoints, Projection, RunOutcome};
use aggregato::testing::ProjectionFixture;
use aggregato_examples::bank::*;
use aggregato_examples::bank_views::redis::{RedisBankViews, RedisBankViewsEvent};
use aggregato_examples::bank_views::{DayTotals, utc_day};
use support::{EXPECTED_SUMS, expected_balances, history, in_ci, server_url, sums};
use time::OffsetDateTime;

const TTL: Duration = Duration::from_secs(120);

/// Views under a new prefix of the Redis at `REDIS_URL`; `None` (skipped) without it.
async fn views(test: &str) -> Option<RedisBankViews> {
    let url = server_url("REDIS_URL", test)?;
    let prefix = format!("aggregato_test:{}:", uuid::Uuid::now_v7().simple());
    let views = RedisBankViews::connect(&url, &prefix, TTL)
        .await
        .unwrap_or_else(|error| panic!("REDIS_URL is set but Redis is unusable: {error}"));
    Some(views)
}

/// Deletes the test's keys.
async fn clean_up(mut views: RedisBankViews) {
    views.reset(&mut ()).await.expect("delete the test's keys");
}

/// The totals of today and yesterday (UTC): a test that runs across midnight splits its
/// events over both.
async fn recent_days(views: &RedisBankViews) -> Vec<DayTotals> {
    let today = utc_day(OffsetDateTime::now_utc());
    let mut days = Vec::new();
    for day in [today.previous_day(), Some(today)].into_iter().flatten() {
        days.extend(views.day_totals(day).await.expect("day totals"));
    }
    days
}

/// Fails in CI without `REDIS_URL`: the Redis tests would be skipped there.
#[test]
fn redis_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || std::env::var_os("REDIS_URL").is_some_and(|url| !url.is_empty()),
        "CI is set but REDIS_URL is not: the Redis tests would be skipped"
    );
}

#[tokio::test]
#[cfg_attr(no_redis_url, ignore = "needs Redis: REDIS_URL is not set")]
async fn the_fixture_fills_the_redis_views() {
    let Some(views) = views("the_fixture_fills_the_redis_views").await else {
        return;
    };
    let mut fixture = ProjectionFixture::new(views.clone());
    for (stream, events) in history::<RedisBankViewsEvent>() {
        fixture = fixture.given(stream, events).await.expect("project");
    }
    for expected in expected_balances() {
        let held = views.balance(&expected.account).await.expect("balance");
        assert_eq!(held, Some(expected));
    }
    assert_eq!(views.balance("nobody").await.expect("balance"), None);
    assert_eq!(sums(&recent_days(&views).await), EXPECTED_SUMS);
    assert_eq!(views.duplicates_skipped(), 0);
    clean_up(views).await;
}

/// Appends an opening, a deposit of 100 and a withdrawal of 30 to account `a`.
async fn bank_commands(store: &Arc<InMemoryEventStore>) {
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(store), BankServices::default());
    let a = AccountId("a".into());
    let open = OpenAccount {
        account_id: a.clone(),
        owner: "ann".into(),
    };
    bank.execute(&a, open).await.expect("open");
    bank.execute(&a, DepositMoney { amount: 100 })
        .await
        .expect("deposit");
    bank.execute(&a, WithdrawMoney { amount: 30 })
        .await
        .expect("withdraw");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_url, ignore = "needs Redis: REDIS_URL is not set")]
async fn a_live_runner_keeps_expiring_keys_and_a_redelivery_counts_nothing_twice() {
    let Some(views) =
        views("a_live_runner_keeps_expiring_keys_and_a_redelivery_counts_nothing_twice").await
    else {
        return;
    };
    let store = Arc::new(InMemoryEventStore::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        views.clone(),
    )
    .with_poll_interval(Duration::from_millis(20));
    let running = tokio::spawn(async move {
        runner
            .run(async {
                let _ = stopped.await;
            })
            .await
    });

    // Appended while the runner follows the log live.
    tokio::time::sleep(Duration::from_millis(50)).await;
    bank_commands(&store).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let balance = views.balance("a").await.expect("balance");
        if balance.as_ref().is_some_and(|a| a.balance == 70) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the live runner did not bring balance 70 to Redis: {balance:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ttl = views.account_ttl("a").await.expect("ttl");
    assert!(
        ttl.is_some_and(|ttl| ttl > Duration::ZERO && ttl <= TTL),
        "the account's key expires within the TTL: {ttl:?}"
    );
    assert_eq!(sums(&recent_days(&views).await), (100, 1, 30, 1));
    let _ = stop.send(());
    let outcome = running.await.expect("the runner task").expect("the run");
    assert_eq!(outcome, RunOutcome::Shutdown);

    // A second runner from checkpoint 0 (at-least-once delivery after a lost checkpoint)
    // hands the same three events out again: each is recognised and nothing moves.
    let mut again = ProjectionRunner::new(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        views.clone(),
    );
    let progress = again.catch_up().await.expect("re-delivery");
    assert_eq!(progress.handled, 3, "all three were handed out again");
    assert_eq!(views.duplicates_skipped(), 3);
    let a = views
        .balance("a")
        .await
        .expect("balance")
        .expect("account a");
    assert_eq!((a.balance, a.open, a.owner.as_str()), (70, true, "ann"));
    assert_eq!(
        sums(&recent_days(&views).await),
        (100, 1, 30, 1),
        "the day's totals were not added to twice"
    );

    // A rebuild clears the keys and their marks, then applies every event once more.
    let progress = again.rebuild().await.expect("rebuild");
    assert_eq!(progress.handled, 3);
    assert_eq!(
        views.duplicates_skipped(),
        3,
        "no event skipped by a stale mark"
    );
    assert_eq!(sums(&recent_days(&views).await), (100, 1, 30, 1));
    assert_eq!(
        views
            .balance("a")
            .await
            .expect("balance")
            .map(|a| a.balance),
        Some(70)
    );
    clean_up(views).await;
}
