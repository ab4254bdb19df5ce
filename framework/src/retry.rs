//! How often and how patiently to retry an operation that lost a race.

use std::time::Duration;

/// A retry policy: how many attempts in all, and how long to wait between them.
///
/// The wait doubles after each attempt, from `initial_backoff` up to `max_backoff`. A non-zero
/// wait uses tokio's timer, so the runtime needs time enabled (`#[tokio::main]` and
/// `#[tokio::test]` do; a hand-built runtime needs `enable_time()` or `enable_all()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included; at least 1.
    pub max_attempts: u32,
    /// The wait after the first failed attempt.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Ten attempts, waiting 1 ms, then 2, 4, ... up to 100 ms.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn never() -> Self {
        Self::immediate(1)
    }

    /// Up to `max_attempts` attempts with no wait between them.
    pub fn immediate(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// Up to `max_attempts` attempts, waiting `initial` then doubling up to `max`.
    pub fn exponential(max_attempts: u32, initial: Duration, max: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            initial_backoff: initial,
            max_backoff: max,
        }
    }

    /// Whether another attempt may follow attempt number `attempt` (1-based).
    pub fn allows_retry_after(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy =
            RetryPolicy::exponential(5, Duration::from_millis(10), Duration::from_millis(35));
        assert_eq!(policy.backoff(1), Duration::from_millis(10));
        assert_eq!(policy.backoff(2), Duration::from_millis(20));
        assert_eq!(policy.backoff(3), Duration::from_millis(35));
        assert!(policy.allows_retry_after(4));
        assert!(!policy.allows_retry_after(5));
        assert!(!RetryPolicy::never().allows_retry_after(1));
    }
}
