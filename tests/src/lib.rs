//! Test-only package: domains and checks shared by the test files.

pub mod account_totals;
pub mod ledger;

/// The README's Rust examples, compiled and run as doctests (`cargo test -p aggregato-tests
/// --doc`): each is a complete program, as a reader would copy it. They live here, not in the
/// `aggregato` crate's docs, because the README is outside that crate's package.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
