//! Compile-time behaviour of the derives: what compiles, and what each mistake reports.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p aggregato-tests --test ui`
//! and read every diff before committing.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
