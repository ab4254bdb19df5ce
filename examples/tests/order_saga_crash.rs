//! The order saga survives a crash: the example binary runs many concurrent orders on a
//! SQLite file, is killed with SIGKILL mid-run, and a second run recovers every unfinished
//! saga. Afterwards every saga has ended and stock and payments balance.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

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

use aggregato::SqliteEventStore;
use aggregato_examples::order_saga::{Audit, SharedStore, audit};

fn order_saga() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_order_saga"));
    command.env_remove("AGGREGATO_DATABASE_URL");
    command
}

fn audit_file(db: &Path) -> Audit {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = SqliteEventStore::connect(&db.display().to_string())
            .await
            .expect("open the killed run's database");
        let store: SharedStore = Arc::new(store);
        audit(&store).await.expect("audit")
    })
}

#[test]
fn a_run_killed_mid_saga_is_recovered_to_balanced_ends() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("shop.db");
    let db_arg = db.display().to_string();

    let mut child = order_saga()
        .args(["--sqlite", &db_arg, "--orders", "200", "--concurrency", "8"])
        .args(["--step-delay-ms", "15"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the order saga");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut completed_steps = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line of output");
        if line.contains("] ok ") || line.contains("undone") {
            completed_steps += 1;
        }
        if completed_steps == 60 {
            break;
        }
    }
    assert_eq!(
        completed_steps, 60,
        "the run ended before it could be killed"
    );
    // `Child::kill` sends SIGKILL on Unix: no cleanup, no flushing, mid-step.
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reap");
    assert!(!status.success(), "the run was killed, not finished");

    let killed = audit_file(&db);
    assert!(
        killed.unfinished > 0 && killed.mid_step > 0,
        "the kill must land inside sagas: {killed:?}"
    );
    let ended_before = killed.completed + killed.compensated;

    let recovery = order_saga()
        .args(["--sqlite", &db_arg, "--recover-only"])
        .output()
        .expect("run the recovery");
    let printed = String::from_utf8_lossy(&recovery.stdout);
    assert!(
        recovery.status.success(),
        "recovery failed:\n{printed}\n{}",
        String::from_utf8_lossy(&recovery.stderr)
    );
    assert!(
        printed.contains(&format!(
            "recovered {} unfinished saga(s)",
            killed.unfinished
        )),
        "{printed}"
    );

    let recovered = audit_file(&db);
    assert_eq!(recovered.problems, Vec::<String>::new());
    assert_eq!(recovered.unfinished, 0);
    assert_eq!(recovered.failed, 0);
    assert_eq!(
        recovered.completed + recovered.compensated,
        ended_before + killed.unfinished,
        "every saga that had started has ended: {recovered:?}"
    );
    assert!(recovered.completed > 0 && recovered.compensated > 0);
}

#[test]
fn the_default_run_prints_steps_and_compensations_in_reverse_order() {
    let output = order_saga().output().expect("run the example");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    let order_4: Vec<&str> = printed
        .lines()
        .filter(|line| line.starts_with("[order-4]"))
        .collect();
    assert_eq!(
        order_4,
        [
            "[order-4] started",
            "[order-4] -> reserve_stock",
            "[order-4] ok reserve_stock",
            "[order-4] -> charge_payment",
            "[order-4] ok charge_payment",
            "[order-4] -> ship",
            "[order-4] !! ship failed: command rejected: cannot deliver to 1 Sunken Road, Atlantis",
            "[order-4] compensating after ship",
            "[order-4] <- charge_payment undone",
            "[order-4] <- reserve_stock undone",
            "[order-4] COMPENSATED",
        ]
    );
    assert!(printed.contains("orders: 3 completed, 3 compensated, 0 failed, 0 unfinished"));
    assert!(printed.contains("balanced"));
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn the_order_saga_runs_on_postgres() {
    let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        skipped("the_order_saga_runs_on_postgres");
        return;
    };
    let schema = format!("aggregato_test_orders_{}", uuid::Uuid::now_v7().simple());
    let output = order_saga()
        .args(["--postgres", &url, "--schema", &schema])
        .args(["--orders", "20", "--concurrency", "4", "--quiet"])
        .output()
        .expect("run the example");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&url)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&pool)
        .await
        .expect("drop the example's schema");
    });
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("orders: 11 completed, 9 compensated, 0 failed, 0 unfinished"),
        "{printed}"
    );
    assert!(printed.contains("balanced"), "{printed}");
}
