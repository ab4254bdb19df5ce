//! Crash safety shown, not claimed: the account totals projection
//! (`aggregato_tests::account_totals`) runs with `ProjectionRunner::run` in `projector` OS
//! processes (tests/src/bin/projector) that are killed, frozen and cut off while events keep
//! being appended. After each blow, and at the end, the read model must hold exactly the
//! events up to the checkpoint, each applied once (`Database::assert_exact`, which computes
//! that from the events themselves, without the runner).
//!
//! - killed with SIGKILL at 20 random points (inside batches among them) and restarted, on
//!   PostgreSQL and on SQLite;
//! - two runners: one claims; killed, the other takes over within lease + claim interval +
//!   slack, from the checkpoint;
//! - frozen with SIGSTOP past the lease: resumed, its commit is refused by the epoch fence
//!   ([`ProjectionError::Fenced`](aggregato::projection::ProjectionError::Fenced)) and it
//!   stands by; frozen inside its batch, holding rows, it does not block the takeover (the
//!   server ends its idle transaction);
//! - connections lost as in a PostgreSQL restart. The shared server is never restarted (other
//!   tests use it); the stand-ins are `pg_terminate_backend` on this test's connections (told
//!   apart by `application_name`), and a TCP proxy that cuts the runners' connections and turns
//!   new ones away for a while.
//!
//! The PostgreSQL tests run each in a schema of their own. Without `DATABASE_URL` they are
//! built as ignored tests, or say they were skipped; under `CI` a skip fails.

mod processes;
mod support;

use std::time::{Duration, Instant};

use processes::child::{Projector, caught_up_to, field, is};
use processes::proxy::{self, Proxy};
use processes::runs::{
    CLAIM_INTERVAL, LEASE, RUNNER, SLACK, START, TAKEOVER, active_and_standby, one_of_two,
    sole_holder,
};
use processes::{Bank, Database, Rng, database_url, runtime, skipped};

/// Fails in CI without `DATABASE_URL`. Elsewhere the PostgreSQL tests of this file are
/// counted as ignored (built without `DATABASE_URL`) or say they were skipped (run without
/// it).
#[test]
fn postgres_tests_are_not_skipped_in_ci() {
    assert!(
        !processes::in_ci() || database_url().is_some(),
        "CI is set but DATABASE_URL is not: the PostgreSQL tests would be skipped"
    );
}

/// 20 SIGKILLs at random points, the process restarted after each, while two appenders
/// add events; after every kill the read model is exactly the events up to the checkpoint,
/// and at the end exactly all of them.
fn killed_and_restarted(database: &Database, runtime: &tokio::runtime::Runtime, rng: &mut Rng) {
    let store = database.store();
    runtime.block_on(Bank::new("early", 40, rng.clone()).append(&*store, 2000, Duration::ZERO));
    let appenders: Vec<_> = ["late-a", "late-b"]
        .into_iter()
        .map(|prefix| {
            let store = database.store();
            let mut bank = Bank::new(prefix, 10, Rng(rng.next()));
            runtime.spawn(async move {
                bank.append(&*store, 500, Duration::from_millis(25)).await;
            })
        })
        .collect();
    let args = database.args("crashing", RUNNER);
    let (mut moved, mut inside) = (0, 0);
    for round in 0..20 {
        let before = runtime.block_on(database.checkpoint());
        let mut runner = Projector::spawn(&format!("run {round}"), &args);
        if round % 5 == 0 {
            // Killed while starting: connecting or claiming.
            std::thread::sleep(rng.up_to(Duration::from_millis(30)));
        } else if round % 2 == 0 {
            // Killed anywhere while it runs.
            runner.expect(START, "claimed", is("claimed"));
            std::thread::sleep(rng.up_to(Duration::from_millis(200)));
        } else {
            // Killed just after one of its first commits: inside the next batch, mostly.
            for _ in 0..=rng.below(15) {
                let line = runner.expect(START, "a commit", |line| {
                    line.starts_with("committed") || line.starts_with("caught-up")
                });
                if line.text.starts_with("caught-up") {
                    break;
                }
            }
            std::thread::sleep(rng.up_to(Duration::from_millis(3)));
        }
        runner.kill();
        let after = runtime.block_on(database.assert_exact(&format!("after kill {round}")));
        if after > before {
            moved += 1;
        }
        if runner.died_inside_a_batch() {
            inside += 1;
        }
    }
    for appender in appenders {
        runtime.block_on(appender).expect("appender");
    }
    eprintln!(
        "{}: the checkpoint moved in {moved} of 20 runs; {inside} kills landed inside a batch",
        database.name()
    );
    assert!(
        moved >= 5,
        "the runs must get work done between kills: moved in {moved} of 20"
    );
    assert!(
        inside >= 5,
        "kills must land inside batches: {inside} of 20 did"
    );
    let head = runtime.block_on(database.head());
    let mut runner = Projector::spawn("final run", &args);
    runner.finish(head);
    assert_eq!(runtime.block_on(database.assert_exact("at the end")), head);
    let total: i64 = runtime
        .block_on(database.read_model())
        .values()
        .map(|(_, events)| events)
        .sum();
    assert_eq!(total as u64, head, "every event applied once");
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn postgres_runner_killed_20_times_ends_exact() {
    let Some(url) = database_url() else {
        skipped("postgres_runner_killed_20_times_ends_exact");
        return;
    };
    let mut rng = Rng::from_env("postgres_runner_killed_20_times_ends_exact");
    let runtime = runtime();
    let database = runtime.block_on(Database::postgres(&url));
    killed_and_restarted(&database, &runtime, &mut rng);
}

#[test]
fn sqlite_runner_killed_20_times_ends_exact() {
    let mut rng = Rng::from_env("sqlite_runner_killed_20_times_ends_exact");
    let runtime = runtime();
    let database = runtime.block_on(Database::sqlite());
    killed_and_restarted(&database, &runtime, &mut rng);
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn postgres_standby_takes_over_a_killed_runner_within_the_lease() {
    let Some(url) = database_url() else {
        skipped("postgres_standby_takes_over_a_killed_runner_within_the_lease");
        return;
    };
    let mut rng = Rng::from_env("postgres_standby_takes_over_a_killed_runner_within_the_lease");
    let runtime = runtime();
    let database = runtime.block_on(Database::postgres(&url));
    let store = database.store();
    let mut bank = Bank::new("acc", 30, rng.clone());
    runtime.block_on(bank.append(&*store, 1000, Duration::ZERO));
    let head = runtime.block_on(database.head());
    let (mut active, mut standby) = one_of_two(&database, head);
    let epoch = runtime
        .block_on(database.state())
        .expect("a checkpoint")
        .epoch;

    // Killed while it works through new events.
    runtime.block_on(bank.append(&*store, 500, Duration::ZERO));
    std::thread::sleep(rng.up_to(Duration::from_millis(100)));
    active.kill();
    let killed = Instant::now();
    let position = runtime.block_on(database.assert_exact("after the kill"));

    let claimed = standby.expect(TAKEOVER + SLACK, "claimed", is("claimed"));
    let took = claimed.at.duration_since(killed);
    assert!(
        took <= TAKEOVER,
        "the takeover took {took:?}, more than {TAKEOVER:?}"
    );
    assert_eq!(
        field(&claimed.text, "position"),
        Some(position),
        "the standby goes on from the checkpoint"
    );
    assert_eq!(
        field(&claimed.text, "epoch"),
        Some(epoch + 1),
        "a takeover raises the epoch"
    );
    let head = runtime.block_on(database.head());
    standby.finish(head);
    assert_eq!(runtime.block_on(database.assert_exact("at the end")), head);
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn postgres_runner_frozen_past_its_lease_is_fenced() {
    let Some(url) = database_url() else {
        skipped("postgres_runner_frozen_past_its_lease_is_fenced");
        return;
    };
    let rng = Rng::from_env("postgres_runner_frozen_past_its_lease_is_fenced");
    let runtime = runtime();
    let database = runtime.block_on(Database::postgres(&url));
    let store = database.store();
    let mut bank = Bank::new("acc", 30, rng);
    runtime.block_on(bank.append(&*store, 500, Duration::ZERO));
    let head = runtime.block_on(database.head());
    let (mut frozen, mut other) = one_of_two(&database, head);

    // The next batch waits (outside a transaction) before it begins, and is frozen there:
    // it has read its events and will commit them under its old claim.
    frozen.tell("hold 300");
    runtime.block_on(bank.append(&*store, 50, Duration::ZERO));
    frozen.expect(Duration::from_secs(10), "held", is("held"));
    frozen.signal("STOP");
    let stopped = Instant::now();
    let position = runtime.block_on(database.checkpoint());

    // The other takes over, and holds its first batch (for less than its lease, or it would
    // lose its claim in turn): the checkpoint stays where the frozen runner expects it, so only
    // the claim's owner and epoch can refuse its commit.
    other.tell("hold 600");
    let claimed = other.expect(TAKEOVER + SLACK, "claimed", is("claimed"));
    let took = claimed.at.duration_since(stopped);
    assert!(
        took <= TAKEOVER,
        "the takeover took {took:?}, more than {TAKEOVER:?}"
    );
    other.expect(Duration::from_secs(5), "held", is("held"));
    frozen.signal("CONT");
    let fenced = frozen.expect(Duration::from_secs(5), "fenced", is("fenced"));
    assert_eq!(
        runtime.block_on(database.checkpoint()),
        position,
        "the other runner has not committed yet"
    );
    assert_eq!(
        fenced.text,
        format!("fenced op=advance epoch=1 expected={position}"),
        "the refused write is the batch's checkpoint, expecting the position it still has"
    );
    runtime.block_on(database.assert_exact("after the fenced commit"));

    // The other goes on, and handles new events; the frozen one is back on standby: it keeps
    // running but claims nothing while the other holds the lease.
    runtime.block_on(bank.append(&*store, 200, Duration::ZERO));
    let head = runtime.block_on(database.head());
    other.expect(Duration::from_secs(30), "caught-up", caught_up_to(head));
    std::thread::sleep(LEASE + CLAIM_INTERVAL * 2);
    assert!(frozen.is_running(), "{}", frozen.transcript());
    assert!(!frozen.holds_claim(), "{}", frozen.transcript());
    assert!(other.holds_claim(), "{}", other.transcript());
    runtime.block_on(database.assert_exact("after the takeover"));

    runtime.block_on(bank.append(&*store, 100, Duration::ZERO));
    let head = runtime.block_on(database.head());
    other.finish(head);
    assert!(
        !other.printed("fenced") && !other.printed("lost"),
        "{}",
        other.transcript()
    );
    assert_eq!(runtime.block_on(database.assert_exact("at the end")), head);
    let status = frozen.stop(Duration::from_secs(10));
    assert!(status.success(), "{}", frozen.transcript());
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn postgres_runner_frozen_inside_a_batch_does_not_block_the_takeover() {
    let Some(url) = database_url() else {
        skipped("postgres_runner_frozen_inside_a_batch_does_not_block_the_takeover");
        return;
    };
    let rng = Rng::from_env("postgres_runner_frozen_inside_a_batch_does_not_block_the_takeover");
    let runtime = runtime();
    let database = runtime.block_on(Database::postgres(&url));
    let store = database.store();
    let mut bank = Bank::new("acc", 5, rng);
    runtime.block_on(bank.append(&*store, 300, Duration::ZERO));
    let head = runtime.block_on(database.head());
    let (mut frozen, mut other) = one_of_two(&database, head);

    // Frozen with its batch's transaction open, after its handlers' writes: it holds the
    // rows of the accounts the other runner must write next.
    frozen.tell("hold-advance 300");
    runtime.block_on(bank.append(&*store, 50, Duration::ZERO));
    frozen.expect(Duration::from_secs(10), "held-advance", is("held-advance"));
    frozen.signal("STOP");
    let stopped = Instant::now();

    // The server ends the frozen session once it has been idle in its transaction for the
    // idle timeout (1.5 s here), and its locks go with it: the other catches up.
    let head = runtime.block_on(database.head());
    other.expect(TAKEOVER + SLACK, "claimed", is("claimed"));
    let caught_up = other.expect(Duration::from_secs(30), "caught-up", caught_up_to(head));
    let took = caught_up.at.duration_since(stopped);
    let bound = TAKEOVER + Duration::from_millis(1500);
    assert!(
        took <= bound,
        "the takeover took {took:?}, more than {bound:?}"
    );
    runtime.block_on(database.assert_exact("after the takeover"));

    // Resumed, the frozen runner finds its transaction gone: nothing of it commits, and it
    // goes back to standby.
    frozen.signal("CONT");
    frozen.expect(
        Duration::from_secs(5),
        "error op=advance",
        is("error op=advance"),
    );
    std::thread::sleep(LEASE + CLAIM_INTERVAL * 2);
    assert!(frozen.is_running(), "{}", frozen.transcript());
    assert!(!frozen.holds_claim(), "{}", frozen.transcript());
    runtime.block_on(bank.append(&*store, 100, Duration::ZERO));
    let head = runtime.block_on(database.head());
    other.finish(head);
    assert_eq!(runtime.block_on(database.assert_exact("at the end")), head);
    let status = frozen.stop(Duration::from_secs(10));
    assert!(status.success(), "{}", frozen.transcript());
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn postgres_runners_recover_when_their_connections_are_cut() {
    let Some(url) = database_url() else {
        skipped("postgres_runners_recover_when_their_connections_are_cut");
        return;
    };
    let mut rng = Rng::from_env("postgres_runners_recover_when_their_connections_are_cut");
    let runtime = runtime();
    let database = runtime.block_on(Database::postgres(&url));
    let store = database.store();
    let mut bank = Bank::new("acc", 30, rng.clone());
    runtime.block_on(bank.append(&*store, 1000, Duration::ZERO));
    let head = runtime.block_on(database.head());
    let (mut a, mut b) = one_of_two(&database, head);

    let appender = {
        let store = database.store();
        runtime.spawn(async move {
            bank.append(&*store, 600, Duration::from_millis(10)).await;
        })
    };
    let mut ended = 0;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300) + rng.up_to(Duration::from_millis(400)));
        ended += runtime.block_on(database.terminate_backends());
    }
    let cut = Instant::now();
    assert!(ended >= 3, "the runners' connections were ended: {ended}");

    // Within the takeover bound, exactly one runner holds the claim again, the one the
    // checkpoint names, and both live.
    let held = loop {
        std::thread::sleep(Duration::from_millis(100));
        if sole_holder(&database, &runtime, &mut a, &mut b) {
            break Instant::now();
        }
        assert!(
            cut.elapsed() <= TAKEOVER,
            "no sole holder of the claim {:?} after the last cut\n{}\n{}",
            cut.elapsed(),
            a.transcript(),
            b.transcript()
        );
    };
    assert!(held.duration_since(cut) <= TAKEOVER);
    runtime.block_on(appender).expect("appender");
    assert!(
        a.is_running() && b.is_running(),
        "{}\n{}",
        a.transcript(),
        b.transcript()
    );
    let (mut active, mut standby) = if a.holds_claim() { (a, b) } else { (b, a) };
    let head = runtime.block_on(database.head());
    active.finish(head);
    assert_eq!(runtime.block_on(database.assert_exact("at the end")), head);
    let status = standby.stop(Duration::from_secs(10));
    assert!(status.success(), "{}", standby.transcript());
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn postgres_runners_ride_out_a_database_outage() {
    let Some(url) = database_url() else {
        skipped("postgres_runners_ride_out_a_database_outage");
        return;
    };
    let rng = Rng::from_env("postgres_runners_ride_out_a_database_outage");
    let runtime = runtime();
    let database = runtime.block_on(Database::postgres(&url));
    let store = database.store();
    let mut bank = Bank::new("acc", 30, rng);
    runtime.block_on(bank.append(&*store, 500, Duration::ZERO));
    let head = runtime.block_on(database.head());

    // The runners reach PostgreSQL through a proxy. Polling no more often than they renew
    // (a third of the lease), a caught-up runner's first call after a quiet wait is the
    // renewal: the idle outage meets it there, not in a read of the log.
    let proxy = Proxy::start(proxy::upstream(&url));
    let via = proxy.url(&url);
    let mut runner = RUNNER.to_vec();
    runner.extend(["--poll-ms", "400"]);
    let a = Projector::spawn("a", &database.args_via(Some(&via), "a", &runner));
    let b = Projector::spawn("b", &database.args_via(Some(&via), "b", &runner));
    let (a, b) = active_and_standby(a, b, head);
    let (mut a, mut b) = (a, b);

    // One outage while the active runner works through new events (appended straight to
    // PostgreSQL), one while it is idle, caught up, renewing its lease.
    let appender = {
        let store = database.store();
        runtime.spawn(async move {
            bank.append(&*store, 300, Duration::from_millis(15)).await;
            bank
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    proxy.outage(Duration::from_millis(1500));
    let mut bank = runtime.block_on(appender).expect("appender");
    let head = runtime.block_on(database.head());
    let caught_up = Instant::now() + Duration::from_secs(30);
    while !a.printed(&format!("caught-up position={head}"))
        && !b.printed(&format!("caught-up position={head}"))
    {
        assert!(
            Instant::now() < caught_up,
            "{}\n{}",
            a.transcript(),
            b.transcript()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    proxy.outage(Duration::from_millis(1500));
    let back = Instant::now();
    runtime.block_on(bank.append(&*store, 100, Duration::ZERO));

    // Within the takeover bound of the database coming back, exactly one runner holds the
    // claim again, and both are still running.
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if sole_holder(&database, &runtime, &mut a, &mut b) {
            break;
        }
        assert!(
            back.elapsed() <= TAKEOVER,
            "no sole holder of the claim {:?} after the outage\n{}\n{}",
            back.elapsed(),
            a.transcript(),
            b.transcript()
        );
    }
    assert!(
        a.is_running() && b.is_running(),
        "{}\n{}",
        a.transcript(),
        b.transcript()
    );
    assert!(
        a.printed("error op=renew") || b.printed("error op=renew"),
        "the idle outage met a renewal\n{}\n{}",
        a.transcript(),
        b.transcript()
    );
    let (mut active, mut standby) = if a.holds_claim() { (a, b) } else { (b, a) };
    let head = runtime.block_on(database.head());
    active.finish(head);
    assert_eq!(runtime.block_on(database.assert_exact("at the end")), head);
    let status = standby.stop(Duration::from_secs(10));
    assert!(status.success(), "{}", standby.transcript());
}
