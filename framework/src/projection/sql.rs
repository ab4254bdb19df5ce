//! What the SQL checkpoint stores share: the columns they select, turning a row into a
//! [`Claim`], [`ProjectionState`] or [`Failure`], and the [`CorruptCheckpoint`] error naming
//! a row that does not decode. Each backend owns its SQL and its clock; this module holds no
//! statement.

use std::time::Duration;

use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Claim, Failure, ProjectionError, ProjectionKey, ProjectionState, Status};

/// The columns of a checkpoint row a state read selects.
macro_rules! state_columns {
    () => {
        "position, epoch, owner, lease_until, status, active, replay_until, failed_position, \
         failed_event_id, failed_stream_id, failed_version, failed_event_type, failed_error, \
         failed_attempts, failed_at"
    };
}
pub(crate) use state_columns;

/// The columns a claim returns.
macro_rules! claim_columns {
    () => {
        "position, epoch, replay_until, active, status"
    };
}
pub(crate) use claim_columns;

/// The dead-letter columns, named as a checkpoint row's failure columns so that one decoder
/// reads both.
macro_rules! dead_letter_columns {
    () => {
        "position AS failed_position, event_id AS failed_event_id, \
         stream_id AS failed_stream_id, stream_version AS failed_version, \
         event_type AS failed_event_type, error AS failed_error, \
         attempts AS failed_attempts, failed_at"
    };
}
pub(crate) use dead_letter_columns;

/// A stored checkpoint or dead letter that does not decode: an unknown status, a negative
/// count, a missing failure column. Returned inside [`ProjectionError::Checkpoint`]; downcast
/// its source to this type to tell it from a driver failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptCheckpoint {
    /// The projection's name.
    pub name: String,
    /// The version column as stored (it may not even fit a `u32`).
    pub version: i64,
    /// The position of the dead letter, when the corrupt row is one.
    pub dead_letter: Option<u64>,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for CorruptCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.dead_letter {
            Some(position) => write!(
                f,
                "the dead letter at position {position} of projection `{}` v{} is corrupt: {}",
                self.name, self.version, self.reason
            ),
            None => write!(
                f,
                "the checkpoint row of projection `{}` v{} is corrupt: {}",
                self.name, self.version, self.reason
            ),
        }
    }
}

impl std::error::Error for CorruptCheckpoint {}

impl CorruptCheckpoint {
    /// The error for the row of `key` (or its dead letter at `dead_letter`).
    pub(crate) fn of(key: &ProjectionKey, dead_letter: Option<u64>, reason: String) -> Self {
        Self {
            name: key.name.clone(),
            version: i64::from(key.version),
            dead_letter,
            reason,
        }
    }
}

/// A driver failure.
pub(crate) fn failed(error: sqlx::Error) -> ProjectionError {
    ProjectionError::checkpoint(error)
}

/// A position or epoch for a `BIGINT` column. No log reaches `i64::MAX`; clamping keeps the
/// fences exact for every value a store can hold.
pub(crate) fn to_db(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The longest lease the stores keep: longer ones would overflow the time columns, and a
/// century is "until released" for any runner.
const LONGEST_LEASE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `lease` in whole microseconds, at most [`LONGEST_LEASE`].
#[cfg(feature = "postgres")]
pub(crate) fn lease_micros(lease: Duration) -> i64 {
    i64::try_from(lease.min(LONGEST_LEASE).as_micros()).unwrap_or(i64::MAX)
}

/// `lease` in whole milliseconds, at most [`LONGEST_LEASE`].
#[cfg(feature = "sqlite")]
pub(crate) fn lease_millis(lease: Duration) -> i64 {
    i64::try_from(lease.min(LONGEST_LEASE).as_millis()).unwrap_or(i64::MAX)
}

/// The claim of `owner` on `key` from a row of `claim_columns!()`.
pub(crate) fn decode_claim<'r, R>(
    row: &'r R,
    key: &ProjectionKey,
    owner: Uuid,
) -> Result<Claim, ProjectionError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let fields = || -> Result<Claim, String> {
        Ok(Claim {
            key: key.clone(),
            owner,
            epoch: count(row, "epoch")?,
            position: count(row, "position")?,
            replay_until: count(row, "replay_until")?,
            active: column(row, "active")?,
            status: status(column(row, "status")?)?,
        })
    };
    fields().map_err(|reason| corrupt(key, None, reason))
}

/// The state of `key` from a row of `state_columns!()`; `T` is how the backend stores
/// times, `time` reads one.
pub(crate) fn decode_state<'r, R, T>(
    row: &'r R,
    key: &ProjectionKey,
    time: fn(T) -> Result<OffsetDateTime, String>,
) -> Result<ProjectionState, ProjectionError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    let fields = || -> Result<ProjectionState, String> {
        let status = status(column(row, "status")?)?;
        let failed_position: Option<i64> = column(row, "failed_position")?;
        let failure = match (status, failed_position) {
            (Status::Failed, _) => Some(decode_failure_fields(row, time)?),
            (_, None) => None,
            (_, Some(_)) => {
                return Err(format!(
                    "status is {} but a failure is recorded",
                    status.as_str()
                ));
            }
        };
        Ok(ProjectionState {
            key: key.clone(),
            position: count(row, "position")?,
            epoch: count(row, "epoch")?,
            owner: column(row, "owner")?,
            lease_until: column::<R, Option<T>>(row, "lease_until")?
                .map(time)
                .transpose()?,
            status,
            active: column(row, "active")?,
            replay_until: count(row, "replay_until")?,
            failure,
        })
    };
    fields().map_err(|reason| corrupt(key, None, reason))
}

/// A dead letter of `key` from a row of `dead_letter_columns!()`.
pub(crate) fn decode_dead_letter<'r, R, T>(
    row: &'r R,
    key: &ProjectionKey,
    time: fn(T) -> Result<OffsetDateTime, String>,
) -> Result<Failure, ProjectionError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    decode_failure_fields(row, time).map_err(|reason| {
        let position = row
            .try_get::<i64, _>("failed_position")
            .ok()
            .and_then(|position| u64::try_from(position).ok());
        corrupt(key, position, reason)
    })
}

/// The `failed_*` columns, all required.
fn decode_failure_fields<'r, R, T>(
    row: &'r R,
    time: fn(T) -> Result<OffsetDateTime, String>,
) -> Result<Failure, String>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    let attempts: i64 = required(row, "failed_attempts")?;
    Ok(Failure {
        position: nonnegative(required(row, "failed_position")?, "failed_position")?,
        event_id: required(row, "failed_event_id")?,
        stream_id: required(row, "failed_stream_id")?,
        version: nonnegative(required(row, "failed_version")?, "failed_version")?,
        event_type: required(row, "failed_event_type")?,
        error: required(row, "failed_error")?,
        attempts: u32::try_from(attempts)
            .map_err(|_| format!("failed_attempts out of range: {attempts}"))?,
        failed_at: time(required(row, "failed_at")?)?,
    })
}

/// A `ProjectionError` for a corrupt row of `key`.
fn corrupt(key: &ProjectionKey, dead_letter: Option<u64>, reason: String) -> ProjectionError {
    ProjectionError::checkpoint(CorruptCheckpoint::of(key, dead_letter, reason))
}

/// One column; a value of the wrong type is a corruption.
fn column<'r, R, T>(row: &'r R, name: &'static str) -> Result<T, String>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(name)
        .map_err(|error| format!("column {name}: {error}"))
}

/// A nullable column that must hold a value here.
fn required<'r, R, T>(row: &'r R, name: &'static str) -> Result<T, String>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    column::<R, Option<T>>(row, name)?.ok_or_else(|| format!("{name} is NULL"))
}

/// An integer column that must not be negative.
fn count<'r, R>(row: &'r R, name: &'static str) -> Result<u64, String>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    nonnegative(column(row, name)?, name)
}

fn nonnegative(value: i64, name: &str) -> Result<u64, String> {
    u64::try_from(value).map_err(|_| format!("{name} is negative: {value}"))
}

/// A stored status name.
fn status(name: String) -> Result<Status, String> {
    Status::parse(&name).ok_or_else(|| format!("unknown status {name:?}"))
}

/// A stored version as a [`Projection::VERSION`](super::Projection::VERSION), naming the row
/// when it does not fit.
pub(crate) fn version_of(name: &str, version: i64) -> Result<u32, ProjectionError> {
    u32::try_from(version).map_err(|_| {
        ProjectionError::checkpoint(CorruptCheckpoint {
            name: name.to_owned(),
            version,
            dead_letter: None,
            reason: format!("version out of range: {version}"),
        })
    })
}

/// The refusal of a checkpoint write by `claim` that expected the checkpoint at `expected`.
pub(crate) fn fenced(claim: &Claim, expected: u64) -> ProjectionError {
    ProjectionError::Fenced {
        projection: claim.key.clone(),
        epoch: claim.epoch,
        expected,
    }
}
