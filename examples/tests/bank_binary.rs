//! The README's run command: the bank binary runs to completion and tells the story it should,
//! on its default store (a temporary SQLite file), on a kept SQLite file, and on PostgreSQL
//! when `DATABASE_URL` names a server.

use std::process::{Command, Output};

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Says that `test` was skipped for lack of `DATABASE_URL`; in CI, where a skipped test would
/// pass for a tested one, fails it instead.
fn skipped(test: &str) {
    assert!(
        !in_ci(),
        "{test}: DATABASE_URL is not set, and CI is: the PostgreSQL tests must run in CI"
    );
    eprintln!("skipped {test}: DATABASE_URL is not set");
}

/// Fails in CI without `DATABASE_URL`. Elsewhere the PostgreSQL tests of this file are counted
/// as ignored (built without `DATABASE_URL`) or say they were skipped (run without it).
#[test]
fn postgres_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || std::env::var_os("DATABASE_URL").is_some_and(|url| !url.is_empty()),
        "CI is set but DATABASE_URL is not: the PostgreSQL tests would be skipped"
    );
}

const STORY: &[&str] = &[
    "+ v1 #1 AccountOpened",
    "+ v3 #3 MoneyWithdrawn",
    "! rejected: insufficient funds: balance 7500, requested 50000",
    "! rejected: refused by the risk check: 6000 exceeds the single-withdrawal limit of 5000",
    "! rejected: the account is already open",
    "! rejected: refused by the risk check: owner mallory is blocked",
    "+ v6 #8 AccountClosed",
    "! rejected: the account is closed",
    "acc-alice: version 6, balance 0, open: false",
    "acc-mallory: version 2, balance 700, open: true",
    "views: checkpoint at #8, 8 event(s) projected in this run",
    "view acc-alice (alice): balance 0, closed",
    "view acc-mallory (mallory): balance 700, open",
];

/// The sums of the `view day` lines: (deposits, their count, withdrawals, their count). A run
/// across midnight (UTC) splits them over two days; the sums stay.
fn day_sums(stdout: &str) -> (u64, u64, u64, u64) {
    let mut sums = (0, 0, 0, 0);
    for line in stdout.lines().filter(|line| line.starts_with("view day ")) {
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().expect("a number"))
            .collect();
        // year, month, day, deposits, count, withdrawals, count
        let [
            _,
            _,
            _,
            deposits,
            deposit_count,
            withdrawals,
            withdrawal_count,
        ] = numbers[..]
        else {
            panic!("unexpected day line {line:?}");
        };
        sums.0 += deposits;
        sums.1 += deposit_count;
        sums.2 += withdrawals;
        sums.3 += withdrawal_count;
    }
    sums
}

fn run_bank(args: &[&str]) -> String {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(args)
        .env_remove("AGGREGATO_DATABASE_URL")
        .output()
        .expect("run the bank example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn assert_story(stdout: &str) {
    for expected in STORY {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert_eq!(
        day_sums(stdout),
        (10_700, 2, 10_000, 3),
        "the views' day totals: deposits 10000 + 700, withdrawals 2500 + 5000 + 2500:\n{stdout}"
    );
}

#[test]
fn the_bank_example_prints_each_event_and_refusal() {
    let stdout = run_bank(&[]);
    assert!(stdout.starts_with("store: SQLite file "), "{stdout}");
    assert!(stdout.contains("(temporary)"), "{stdout}");
    assert_story(&stdout);
}

#[test]
fn a_kept_sqlite_file_carries_the_story_into_the_next_run() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("bank.db").display().to_string();
    assert_story(&run_bank(&["--sqlite", &path]));
    let second = run_bank(&["--sqlite", &path]);
    assert_eq!(
        second.lines().nth(2),
        Some("  ! rejected: the account is already open"),
        "the second run starts from the stored events:\n{second}"
    );
    assert!(!second.contains("+ v1 #1"), "{second}");
    assert!(
        second.contains("acc-alice: version 6, balance 0, open: false"),
        "{second}"
    );
    // The views' checkpoint is kept in the file too: the second run projects only the two
    // deposits mallory's open account now takes, and the tables hold both runs, once.
    for expected in [
        "acc-mallory: version 4, balance 1500, open: true",
        "views: checkpoint at #10, 2 event(s) projected in this run",
        "view acc-mallory (mallory): balance 1500, open",
        "view acc-alice (alice): balance 0, closed",
    ] {
        assert!(
            second.contains(expected),
            "missing {expected:?} in:\n{second}"
        );
    }
    assert_eq!(day_sums(&second), (11_500, 4, 10_000, 3), "{second}");
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn the_bank_example_runs_on_postgres() {
    let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        skipped("the_bank_example_runs_on_postgres");
        return;
    };
    let schema = format!("aggregato_test_bank_{}", uuid::Uuid::now_v7().simple());
    let stdout = tokio::task::spawn_blocking({
        let (url, schema) = (url.clone(), schema.clone());
        move || run_bank(&["--postgres", &url, "--schema", &schema])
    })
    .await;
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("connect to DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .expect("drop the example's schema");
    let stdout = stdout.expect("the bank example ran");
    assert!(
        stdout.starts_with(&format!("store: PostgreSQL, schema {schema}")),
        "{stdout}"
    );
    assert_story(&stdout);
}
