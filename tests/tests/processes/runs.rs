//! Runners in pairs, and the timing every process test shares: one runner claims, the other
//! stands by; which one holds the claim, by its own account and the checkpoint's.

use std::time::{Duration, Instant};

use super::Database;
use super::child::{Projector, caught_up_to, is};

/// The lease of every runner here: short, so takeovers are quick.
pub const LEASE: Duration = Duration::from_millis(1000);
/// How often a runner on standby tries to claim.
pub const CLAIM_INTERVAL: Duration = Duration::from_millis(200);
/// Room for a loaded 2-core machine on top of lease and claim interval.
pub const SLACK: Duration = Duration::from_millis(1500);
/// The longest a takeover may take once the holder is dead, frozen or cut off.
pub const TAKEOVER: Duration = LEASE.saturating_add(CLAIM_INTERVAL).saturating_add(SLACK);
/// The runners' flags beyond the database and owner (the lease and claim interval above).
pub const RUNNER: &[&str] = &[
    "--lease-ms",
    "1000",
    "--claim-interval-ms",
    "200",
    "--poll-ms",
    "50",
    "--batch",
    "7",
    "--idle-timeout-ms",
    "1500",
];
/// How long a process may take to start, connect and claim.
pub const START: Duration = Duration::from_secs(15);

/// Starts two runners on `database` at once, waits until one of them has claimed and
/// caught up with `head`; (active, standby). The other must not claim meanwhile.
pub fn one_of_two(database: &Database, head: u64) -> (Projector, Projector) {
    let a = Projector::spawn("a", &database.args("a", RUNNER));
    let b = Projector::spawn("b", &database.args("b", RUNNER));
    active_and_standby(a, b, head)
}

/// Of the runners `a` and `b`, started together, the one that claimed and caught up with
/// `head`, and the other, which must not have claimed; (active, standby).
pub fn active_and_standby(mut a: Projector, mut b: Projector, head: u64) -> (Projector, Projector) {
    a.expect(START, "ready", is("ready"));
    b.expect(START, "ready", is("ready"));
    let deadline = Instant::now() + START;
    let (mut active, mut standby) = loop {
        if a.wait_for(Duration::from_millis(50), is("claimed"))
            .is_some()
        {
            break (a, b);
        }
        if b.wait_for(Duration::from_millis(50), is("claimed"))
            .is_some()
        {
            break (b, a);
        }
        assert!(Instant::now() < deadline, "neither runner claimed");
    };
    active.expect(Duration::from_secs(30), "caught-up", caught_up_to(head));
    // Several claim intervals and more than a lease: the standby keeps trying, and fails.
    std::thread::sleep(LEASE + CLAIM_INTERVAL * 2);
    assert!(
        !standby.printed("claimed"),
        "two runners claimed at once\n{}\n{}",
        active.transcript(),
        standby.transcript()
    );
    (active, standby)
}

/// Whether exactly one of `a` and `b` says it holds the claim, and the checkpoint names it.
pub fn sole_holder(
    database: &Database,
    runtime: &tokio::runtime::Runtime,
    a: &mut Projector,
    b: &mut Projector,
) -> bool {
    let holder = match (a.holds_claim(), b.holds_claim()) {
        (true, false) => a.owner(),
        (false, true) => b.owner(),
        _ => return false,
    };
    let state = runtime.block_on(database.state());
    holder.is_some() && state.is_some_and(|state| state.owner == holder)
}
