//! The README's run command: the bank binary runs to completion and tells the story it should.

use std::process::Command;

#[test]
fn the_bank_example_prints_each_event_and_refusal() {
    let output = Command::new(env!("CARGO_BIN_EXE_bank"))
        .output()
        .expect("run the bank example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}",
        output.status
    );
    for expected in [
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
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
