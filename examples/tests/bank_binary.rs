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
];

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
