//! Compile-time behaviour of the derives: what compiles, and what each mistake reports.
//!
//! The cases are grouped by derive, `ui/{derive}/pass/` and `ui/{derive}/fail/`, one mistake per
//! fail file, named after the mistake (`ui/aggregate/fail/duplicate-event.rs`), its `.stderr`
//! beside it. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p aggregato-tests --test ui` and read every diff before
//! committing; `UI_CASES=entity/fail/field-*` runs only the cases that glob names.

/// The derives with ui cases, each a folder of `ui/`.
const DERIVES: &[&str] = &[
    "aggregate",
    "command",
    "entity",
    "event",
    "projection",
    "saga",
];

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    // `UI_CASES=entity/fail/field-*` runs only the cases under `ui/` that the glob names: a
    // quick loop while working on a few.
    if let Ok(glob) = std::env::var("UI_CASES") {
        let path = format!("ui/{glob}.rs");
        if glob.contains("/pass/") {
            cases.pass(path);
        } else {
            cases.compile_fail(path);
        }
        return;
    }
    for derive in DERIVES {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("ui")
            .join(derive);
        if folder.join("pass").is_dir() {
            cases.pass(format!("ui/{derive}/pass/*.rs"));
        }
        cases.compile_fail(format!("ui/{derive}/fail/*.rs"));
    }
}
