//! Golden event files: one stored sample payload per event type and schema version, kept in
//! the user's tests and checked on every run, the guard against changing an event so that the
//! history already stored no longer loads.
//!
//! [`GoldenEvents::check`] is given a sample of every event of an aggregate. For each one whose
//! type and version have no file yet, it writes `{dir}/{event type}.v{version}.json` (review and
//! commit it, as an insta snapshot). It never rewrites a file: a file is a payload as some
//! version of the code stored it. Then every file in the folder, of every version, must still
//! decode with the current code, through `upcast_from` for older versions. A change that
//! breaks one (a renamed or retyped field without a new version, a removed event, an upcast
//! chain cut short) fails the test with what broke and how to keep reading it.
//!
//! Under CI (the `CI` environment variable set, as most CI services do), a missing file is an
//! error instead of being written: a sample nobody committed guards nothing
//! ([`GoldenEvents::write_missing`] decides otherwise).
//!
//! ```
//! # use aggregato::prelude::*;
//! # use aggregato::testing::GoldenEvents;
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
//! # pub struct Incremented { pub by: u32 }
//! # #[derive(Debug, Clone, Command)]
//! # #[command(aggregate = Counter)]
//! # pub struct Increment { pub by: u32 }
//! # #[derive(Debug, Default, Aggregate)]
//! # #[aggregate(id = String, events(Incremented), commands(Increment))]
//! # pub struct Counter { pub total: u32 }
//! # impl Handle<Increment> for Counter {
//! #     async fn handle(&self, c: Increment, _: &()) -> Result<Vec<CounterEvent>, std::convert::Infallible> {
//! #         Ok(vec![Incremented { by: c.by }.into()])
//! #     }
//! # }
//! # impl Apply<Incremented> for Counter { fn apply(&mut self, e: &Incremented) { self.total += e.by; } }
//! # let dir = std::env::temp_dir().join(format!("golden-{}", uuid::Uuid::now_v7()));
//! // In a test of the crate that owns the aggregate, with a folder under `tests/`:
//! // let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/counter");
//! let golden = GoldenEvents::new(&dir).write_missing(true); // (this example runs under CI too)
//! let report = golden.check::<CounterEvent>([Incremented { by: 3 }.into()])?;
//! assert_eq!(report.written.len(), 1); // the first run writes `Incremented.v1.json`
//! assert_eq!(golden.check::<CounterEvent>([Incremented { by: 3 }.into()])?.checked, 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::event::EventSet;

/// A folder of golden event files; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct GoldenEvents {
    dir: PathBuf,
    /// Whether a missing file is written; `None`: unless under CI.
    write_missing: Option<bool>,
}

/// What a successful [`GoldenEvents::check`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GoldenReport {
    /// The files written because their event type and version had none: review and commit.
    pub written: Vec<PathBuf>,
    /// How many stored files were decoded by the current code.
    pub checked: usize,
}

/// Why a [`GoldenEvents::check`] failed: every problem found, each saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for GoldenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "golden event files do not hold:")?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GoldenError {}

impl GoldenEvents {
    /// The golden files of one aggregate's events, in `dir` (created when a file is written).
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_owned(),
            write_missing: None,
        }
    }

    /// Sets whether a sample without a file gets one written (`true`) or is an error
    /// (`false`). By default it is written, except under CI.
    #[must_use]
    pub fn write_missing(mut self, write: bool) -> Self {
        self.write_missing = Some(write);
        self
    }

    /// Writes a file for each sample whose event type and version have none (unless under
    /// CI), then decodes every file of the folder with the current code. `samples` must hold
    /// an event of every type of `E`.
    ///
    /// # Errors
    /// Every problem at once: an event type without a sample, a sample that cannot be
    /// encoded, a file that is missing under CI, cannot be read or written, is not named
    /// `{event type}.v{version}.json`, or no longer decodes.
    pub fn check<E: EventSet>(
        &self,
        samples: impl IntoIterator<Item = E>,
    ) -> Result<GoldenReport, GoldenError> {
        let mut problems = Vec::new();
        let mut report = GoldenReport::default();
        let mut current = BTreeMap::new();
        for sample in samples {
            match sample.encode() {
                Ok(payload) => {
                    current.insert((sample.event_type(), sample.event_version()), payload);
                }
                Err(error) => {
                    problems.push(format!("the sample {sample:?} cannot be encoded: {error}"))
                }
            }
        }
        for event_type in E::EVENT_TYPES {
            if !current.keys().any(|(name, _)| name == event_type) {
                problems.push(format!(
                    "no sample of `{event_type}`: add one to the samples, so its stored form is \
                     guarded too"
                ));
            }
        }
        let write_missing = self.write_missing.unwrap_or_else(|| !under_ci());
        for ((event_type, version), payload) in &current {
            let path = self.dir.join(file_name(event_type, *version));
            if path.exists() {
                continue;
            }
            if !write_missing {
                problems.push(format!(
                    "{} is missing: run the tests locally, which write it, and commit it",
                    path.display()
                ));
                continue;
            }
            match write_sample(&path, payload) {
                Ok(()) => report.written.push(path),
                Err(error) => {
                    problems.push(format!("{} cannot be written: {error}", path.display()))
                }
            }
        }
        match self.stored_files() {
            Ok(files) => {
                for path in files {
                    match decode_file::<E>(&path) {
                        Ok(()) => report.checked += 1,
                        Err(problem) => problems.push(problem),
                    }
                }
            }
            Err(error) => {
                problems.push(format!("{} cannot be listed: {error}", self.dir.display()))
            }
        }
        if problems.is_empty() {
            Ok(report)
        } else {
            Err(GoldenError { problems })
        }
    }

    /// The `.json` files of the folder, in name order (none when it does not exist).
    fn stored_files(&self) -> std::io::Result<Vec<PathBuf>> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }
}

fn file_name(event_type: &str, version: u32) -> String {
    format!("{event_type}.v{version}.json")
}

/// The event type and version a file name stands for.
fn parse_file_name(path: &Path) -> Option<(String, u32)> {
    let stem = path.file_stem()?.to_str()?;
    let (event_type, version) = stem.rsplit_once(".v")?;
    Some((event_type.to_owned(), version.parse().ok()?))
}

fn write_sample(path: &Path, payload: &serde_json::Value) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut text = serde_json::to_string_pretty(payload).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(path, text)
}

/// Decodes one stored file with the current code, or says what broke.
fn decode_file<E: EventSet>(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let Some((event_type, version)) = parse_file_name(path) else {
        return Err(format!(
            "{shown} is not named `{{event type}}.v{{version}}.json`: rename or remove it"
        ));
    };
    let text = std::fs::read_to_string(path).map_err(|error| format!("{shown}: {error}"))?;
    let payload: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("{shown} is not JSON: {error}"))?;
    E::decode(&event_type, version, &payload)
        .map(drop)
        .map_err(|error| {
            format!(
                "{shown}: a `{event_type}` stored at version {version} no longer decodes ({error}); \
                 stored events like it would fail to load. Keep reading it: restore the old \
                 shape, or give the event a new version with `upcast_from` the old one (a \
                 renamed event keeps its stored name with `#[event(name = \"...\")]`)"
            )
        })
}

/// Whether this runs under CI: the `CI` variable is set to anything but empty, `0` or
/// `false`.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "0" | "false"))
}
