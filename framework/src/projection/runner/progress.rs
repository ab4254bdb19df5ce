//! How far a run has come, for the progress callback and `tracing`.

use std::time::{Duration, Instant};

/// How far a run has come: reported after every committed batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The checkpoint: the position of the last event handled (or skipped by the filter's
    /// page) and committed.
    pub position: u64,
    /// The position of the newest event in the log, when the store can tell
    /// ([`EventStore::head_position`](crate::EventStore::head_position)); read when the run
    /// starts catching up, and again whenever the checkpoint passes it.
    pub head: Option<u64>,
    /// Events handed to the projection and committed in this run.
    pub handled: u64,
    /// Events handled per second since the run started.
    pub events_per_second: f64,
    /// Whether the events of the last batch were replays (a rebuild, or a new version
    /// catching up).
    pub replaying: bool,
    /// Whether the run has reached the end of the log.
    pub caught_up: bool,
}

impl Progress {
    /// How much of the log is behind the checkpoint, from 0.0 to 1.0, when the head is known
    /// (1.0 for an empty log).
    pub fn fraction(&self) -> Option<f64> {
        let head = self.head?;
        if head == 0 {
            return Some(1.0);
        }
        Some((self.position.min(head) as f64) / (head as f64))
    }
}

/// Counts what one run handled and when.
#[derive(Debug)]
pub(super) struct Tracker {
    started: Instant,
    pub(super) progress: Progress,
    last_log: Option<Instant>,
}

/// How often catching up logs its progress at `info` level.
const LOG_EVERY: Duration = Duration::from_secs(1);

impl Tracker {
    pub(super) fn new(position: u64, head: Option<u64>) -> Self {
        Self {
            started: Instant::now(),
            progress: Progress {
                position,
                head,
                handled: 0,
                events_per_second: 0.0,
                replaying: false,
                caught_up: false,
            },
            last_log: None,
        }
    }

    /// Records a committed batch of `handled` events ending at `position`.
    pub(super) fn committed(&mut self, position: u64, handled: u64, replaying: bool) {
        let progress = &mut self.progress;
        progress.position = position;
        progress.handled += handled;
        progress.replaying = replaying;
        progress.caught_up = false;
        let seconds = self.started.elapsed().as_secs_f64();
        if seconds > 0.0 {
            progress.events_per_second = progress.handled as f64 / seconds;
        }
    }

    /// Whether the head should be read again: the checkpoint passed it.
    pub(super) fn head_is_stale(&self) -> bool {
        self.progress
            .head
            .is_some_and(|head| self.progress.position > head)
    }

    /// Logs the progress at `info` level at most once a second while catching up, and when
    /// the run has caught up.
    pub(super) fn log(&mut self, projection: &str) {
        let now = Instant::now();
        let due = self
            .last_log
            .is_none_or(|last| now.duration_since(last) >= LOG_EVERY);
        let progress = &self.progress;
        if progress.caught_up || due {
            self.last_log = Some(now);
            tracing::info!(
                projection,
                position = progress.position,
                head = progress.head,
                handled = progress.handled,
                events_per_second = progress.events_per_second,
                replaying = progress.replaying,
                caught_up = progress.caught_up,
                "projection progress"
            );
        }
    }
}
