//! Golden event files: written once per event type and version, never rewritten, and every
//! stored one decoded by the current code, so a change that breaks stored history fails.

use std::path::Path;

use aggregato::testing::{GoldenEvents, GoldenReport};
use serde_json::json;

/// The code as first released: `Deposited` carries `amount`.
mod v1 {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    pub struct Opened {
        pub owner: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    pub struct Deposited {
        pub amount: u64,
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Account)]
    pub struct Open;

    #[derive(Debug, Default, Aggregate)]
    #[aggregate(id = String, events(Opened, Deposited), commands(Open))]
    pub struct Account;

    impl Handle<Open> for Account {
        async fn handle(
            &self,
            _: Open,
            _: &(),
        ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
            Ok(Vec::new())
        }
    }
    impl Apply<Opened> for Account {
        fn apply(&mut self, _: &Opened) {}
    }
    impl Apply<Deposited> for Account {
        fn apply(&mut self, _: &Deposited) {}
    }

    pub fn samples() -> [AccountEvent; 2] {
        [
            Opened {
                owner: "ada".to_owned(),
            }
            .into(),
            Deposited { amount: 5 }.into(),
        ]
    }
}

/// `Deposited` renamed its field in place, same version: stored events no longer load.
mod broken {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};

    pub use super::v1::Opened;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    pub struct Deposited {
        pub cents: u64,
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Account)]
    pub struct Open;

    #[derive(Debug, Default, Aggregate)]
    #[aggregate(id = String, events(Opened, Deposited), commands(Open))]
    pub struct Account;

    impl Handle<Open> for Account {
        async fn handle(
            &self,
            _: Open,
            _: &(),
        ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
            Ok(Vec::new())
        }
    }
    impl Apply<Opened> for Account {
        fn apply(&mut self, _: &Opened) {}
    }
    impl Apply<Deposited> for Account {
        fn apply(&mut self, _: &Deposited) {}
    }
}

/// The same change done right: version 2, reading version 1 through `upcast_from`.
mod v2 {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};

    pub use super::v1::Opened;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    #[event(version = 2, upcast_from = super::v1::Deposited)]
    pub struct Deposited {
        pub cents: u64,
    }

    impl From<super::v1::Deposited> for Deposited {
        fn from(old: super::v1::Deposited) -> Self {
            Self {
                cents: old.amount * 100,
            }
        }
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Account)]
    pub struct Open;

    #[derive(Debug, Default, Aggregate)]
    #[aggregate(id = String, events(Opened, Deposited), commands(Open))]
    pub struct Account;

    impl Handle<Open> for Account {
        async fn handle(
            &self,
            _: Open,
            _: &(),
        ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
            Ok(Vec::new())
        }
    }
    impl Apply<Opened> for Account {
        fn apply(&mut self, _: &Opened) {}
    }
    impl Apply<Deposited> for Account {
        fn apply(&mut self, _: &Deposited) {}
    }

    pub fn samples() -> [AccountEvent; 2] {
        [
            Opened {
                owner: "ada".to_owned(),
            }
            .into(),
            Deposited { cents: 500 }.into(),
        ]
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read a golden file");
    serde_json::from_str(&text).expect("a golden file is JSON")
}

fn first_run(dir: &Path) -> GoldenReport {
    GoldenEvents::new(dir)
        .write_missing(true)
        .check::<v1::AccountEvent>(v1::samples())
        .expect("the first run writes the files")
}

#[test]
fn the_first_run_writes_one_file_per_event_and_later_runs_check_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let report = first_run(dir.path());
    let names: Vec<_> = report
        .written
        .iter()
        .filter_map(|path| path.file_name()?.to_str())
        .collect();
    assert_eq!(names, ["Deposited.v1.json", "Opened.v1.json"]);
    assert_eq!(report.checked, 2);
    assert_eq!(
        read_json(&dir.path().join("Deposited.v1.json")),
        json!({ "amount": 5 })
    );

    let other_sample = [v1::Deposited { amount: 7 }.into(), v1::samples()[0].clone()];
    let again = GoldenEvents::new(dir.path())
        .write_missing(true)
        .check::<v1::AccountEvent>(other_sample)
        .expect("the second run checks");
    assert!(again.written.is_empty(), "a file is never rewritten");
    assert_eq!(again.checked, 2);
    assert_eq!(
        read_json(&dir.path().join("Deposited.v1.json")),
        json!({ "amount": 5 }),
        "the stored sample stays as first written"
    );
}

#[test]
fn a_change_that_breaks_stored_events_fails_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().expect("temporary directory");
    first_run(dir.path());
    let error = GoldenEvents::new(dir.path())
        .write_missing(true)
        .check::<broken::AccountEvent>([
            broken::Deposited { cents: 1 }.into(),
            broken::Opened {
                owner: "ada".to_owned(),
            }
            .into(),
        ])
        .expect_err("the renamed field breaks the stored sample");
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    assert!(problem.contains("Deposited.v1.json"), "{problem}");
    assert!(problem.contains("no longer decodes"), "{problem}");
    assert!(problem.contains("upcast_from"), "{problem}");
}

#[test]
fn a_new_version_that_upcasts_the_old_one_passes_and_keeps_both_files() {
    let dir = tempfile::tempdir().expect("temporary directory");
    first_run(dir.path());
    let report = GoldenEvents::new(dir.path())
        .write_missing(true)
        .check::<v2::AccountEvent>(v2::samples())
        .expect("version 1 reads through upcast_from");
    let names: Vec<_> = report
        .written
        .iter()
        .filter_map(|path| path.file_name()?.to_str())
        .collect();
    assert_eq!(names, ["Deposited.v2.json"]);
    assert_eq!(report.checked, 3, "v1 and v2 of Deposited, and Opened");
}

#[test]
fn a_removed_event_type_a_missing_sample_and_a_stray_file_are_each_reported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    first_run(dir.path());
    std::fs::write(dir.path().join("Closed.v1.json"), "{}\n").expect("write");
    std::fs::write(dir.path().join("notes.json"), "{}\n").expect("write");
    let error = GoldenEvents::new(dir.path())
        .write_missing(true)
        .check::<v1::AccountEvent>([v1::Deposited { amount: 1 }.into()])
        .expect_err("three problems");
    let text = error.to_string();
    assert_eq!(error.problems.len(), 3, "{text}");
    assert!(text.contains("no sample of `Opened`"), "{text}");
    assert!(
        text.contains("Closed.v1.json") && text.contains("unknown event type `Closed`"),
        "{text}"
    );
    assert!(
        text.contains("notes.json is not named `{event type}.v{version}.json`"),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_an_error_when_files_are_not_written() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let error = GoldenEvents::new(dir.path())
        .write_missing(false)
        .check::<v1::AccountEvent>(v1::samples())
        .expect_err("nothing committed");
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(
        error.problems[0].contains("is missing: run the tests locally"),
        "{error}"
    );
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").next().is_none(),
        "nothing is written"
    );
}
