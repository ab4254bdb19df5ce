//! Test-only package: domains and checks shared by the test files.

pub mod ledger;
