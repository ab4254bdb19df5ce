//! What every benchmark (and `tests/workloads.rs`) shares: the bank domain written once per
//! framework, the workload generator, the runs and their verification.
//!
//! Included with `mod common;` by each bench and test target; each uses only part of it.
#![allow(dead_code, unreachable_pub)]

pub mod cqrs;
pub mod domain;
pub mod handwritten;
pub mod ours;
pub mod pg;
pub mod workload;

use tokio::runtime::Runtime;

/// A single-threaded tokio runtime, for the in-process workloads.
pub fn current_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// A two-worker tokio runtime (the machine has two cores), for the PostgreSQL workloads.
pub fn multi_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// Runs its check when dropped. divan drops a benchmark's outputs outside the timed region,
/// so returning one of these from the timed closure verifies the run without timing it.
pub struct VerifyOnDrop<T> {
    value: Option<T>,
    check: Option<Box<dyn FnOnce(T)>>,
}

impl<T> VerifyOnDrop<T> {
    /// `check(value)` runs when this is dropped.
    pub fn new(value: T, check: impl FnOnce(T) + 'static) -> Self {
        Self {
            value: Some(value),
            check: Some(Box::new(check)),
        }
    }
}

impl<T> Drop for VerifyOnDrop<T> {
    fn drop(&mut self) {
        if let (Some(value), Some(check)) = (self.value.take(), self.check.take()) {
            check(value);
        }
    }
}
