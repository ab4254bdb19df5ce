//! The `rebuild_views` binary: fills a store, builds the SQL views, rebuilds them behind a
//! progress bar, and prints totals that match the events it appended, once.

use std::process::Command;

fn rebuild_views(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rebuild_views"))
        .args(args)
        .env_remove("AGGREGATO_DATABASE_URL")
        .output()
        .expect("run the rebuild_views example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The sums of the `day` lines (deposits, count, withdrawals, count): a run across midnight
/// (UTC) splits them over two days.
fn day_sums(stdout: &str) -> (u64, u64, u64, u64) {
    let mut sums = (0, 0, 0, 0);
    for line in stdout.lines().filter(|line| line.starts_with("day ")) {
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().expect("a number"))
            .collect();
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

/// 250 events: two accounts of 100 (an opening, 66 deposits of 10, 33 withdrawals of 5) and
/// one of 50 (an opening, 33 deposits, 16 withdrawals).
const TOTALS: &str = "accounts: 3 (3 open), total balance 1240";
const SUMS: (u64, u64, u64, u64) = (1_650, 165, 410, 82);

#[test]
fn a_rebuild_replays_every_event_once() {
    let stdout = rebuild_views(&["--events", "250"]);
    for expected in [
        "filled: 250 events on 3 accounts",
        "built: checkpoint at #250",
        "rebuilt: 250 events in ",
        "checkpoint at #250 of #250",
        TOTALS,
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert_eq!(day_sums(&stdout), SUMS, "{stdout}");
}

#[test]
fn a_kept_store_is_rebuilt_as_it_is() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("views.db").display().to_string();
    rebuild_views(&["--events", "250", "--sqlite", &path]);
    let second = rebuild_views(&["--events", "250", "--sqlite", &path]);
    assert!(!second.contains("filled:"), "not filled twice:\n{second}");
    assert!(second.contains("rebuilt: 250 events in "), "{second}");
    assert!(second.contains(TOTALS), "{second}");
    assert_eq!(day_sums(&second), SUMS, "{second}");
}
