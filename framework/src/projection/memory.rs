//! Checkpoints kept in process memory. (Being written.)

/// Checkpoints in memory.
#[derive(Debug, Default)]
pub struct InMemoryCheckpoints {}
