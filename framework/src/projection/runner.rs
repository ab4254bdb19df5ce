//! The runner: claims a projection, catches up from its checkpoint, then follows the log.
//! (Being written: the types below are the API the rest of the crate builds on.)

/// How far a run has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The checkpoint.
    pub position: u64,
    /// The store's last position when known.
    pub head: Option<u64>,
    /// Events handled in this run.
    pub handled: u64,
    /// Events per second in this run.
    pub events_per_second: f64,
    /// Whether the events handled are replays.
    pub replaying: bool,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Shut down as asked.
    Shutdown,
    /// A newer version took over.
    Retired,
}

/// Runs a projection.
#[derive(Debug)]
pub struct ProjectionRunner<S, C, P> {
    store: S,
    checkpoints: C,
    projection: P,
}
