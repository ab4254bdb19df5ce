//! Peak memory per stored event on workload 1 (1,000 accounts, 200,000 commands: 201,000
//! events), aggregato on `InMemoryEventStore` and cqrs-es on `MemStore`.
//!
//! The binary runs itself once per contender as a child process (`current_exe`, told what to
//! run by the environment variable below), so each measurement starts from a fresh process.
//! The child reads `VmRSS` from `/proc/self/status` just before the workload and `VmHWM` (the
//! peak resident set) after it, and reports `(VmHWM - VmRSS before) / stored events` on
//! stderr; the parent prints a table. Linux only (it reads `/proc`).

mod common;

use std::process::{Command, Stdio};

use aggregato::InMemoryEventStore;
use common::workload::Workload;
use common::{cqrs, current_thread_runtime, ours};
use cqrs_es::mem_store::MemStore;

const WORKLOAD: Workload = Workload::new(1_000, 200_000);
const CHILD: &str = "AGGREGATO_BENCH_PEAK_MEMORY_CHILD";
const CONTENDERS: [(&str, &str); 3] = [
    (
        "ours",
        "aggregato, InMemoryEventStore (common::ours::repository)",
    ),
    (
        "ours_full_replay",
        "aggregato, InMemoryEventStore (full replay)",
    ),
    ("cqrs_es", "cqrs-es 0.5, MemStore"),
];

fn main() {
    match std::env::var(CHILD) {
        Ok(contender) => child(&contender),
        Err(_) => parent(),
    }
}

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

fn child(contender: &str) {
    let runtime = current_thread_runtime();
    let ids = WORKLOAD.account_ids();
    let before = status_kib("VmRSS");
    match contender {
        "ours" | "ours_full_replay" => {
            let store = InMemoryEventStore::new();
            let repository = if contender == "ours" {
                ours::repository(store)
            } else {
                ours::full_replay_repository(store)
            };
            runtime.block_on(ours::run(&repository, &ids, &WORKLOAD));
            let peak = status_kib("VmHWM");
            runtime.block_on(ours::verify(contender, &repository, &ids, &WORKLOAD));
            report(before, peak);
        }
        "cqrs_es" => {
            let store = MemStore::<cqrs::CqrsAccount>::default();
            let framework = cqrs::mem_store_framework(store.clone());
            runtime.block_on(cqrs::run(&framework, &ids, &WORKLOAD));
            let peak = status_kib("VmHWM");
            runtime.block_on(cqrs::verify(contender, &store, &ids, &WORKLOAD));
            report(before, peak);
        }
        other => panic!("unknown contender {other}"),
    }
}

fn report(before_kib: u64, peak_kib: u64) {
    // On stderr: cqrs-es's MemStore prints two lines per command on stdout.
    eprintln!("RESULT {before_kib} {peak_kib}");
}

fn parent() {
    let exe = std::env::current_exe().expect("current_exe");
    let events = WORKLOAD.total_commands() as f64;
    println!(
        "peak memory per stored event, {} accounts, {} commands, {} events stored",
        WORKLOAD.accounts,
        WORKLOAD.commands,
        WORKLOAD.total_commands()
    );
    println!(
        "{:<58} {:>12} {:>12} {:>14}",
        "contender", "RSS before", "VmHWM", "bytes/event"
    );
    for (contender, label) in CONTENDERS {
        let output = Command::new(&exe)
            .env(CHILD, contender)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run the child");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{label}: the child failed: {stderr}"
        );
        let (before, peak) = stderr
            .lines()
            .find_map(|line| {
                let mut fields = line.strip_prefix("RESULT ")?.split(' ');
                Some((
                    fields.next()?.parse::<u64>().ok()?,
                    fields.next()?.parse::<u64>().ok()?,
                ))
            })
            .unwrap_or_else(|| panic!("{label}: no RESULT line in {stderr}"));
        let per_event = (peak.saturating_sub(before) * 1024) as f64 / events;
        println!(
            "{label:<58} {:>9} KiB {:>8} KiB {per_event:>14.1}",
            before, peak
        );
    }
}
