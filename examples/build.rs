//! Sets `cfg(no_database_url)` when `DATABASE_URL` is unset or empty, so the PostgreSQL tests
//! are built as ignored tests, with the reason, and `cargo test` counts them as ignored instead of
//! passed. Setting or clearing `DATABASE_URL` rebuilds them. See DEVELOPERS.md.

fn main() {
    println!("cargo::rerun-if-env-changed=DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(no_database_url)");
    if std::env::var_os("DATABASE_URL").is_none_or(|url| url.is_empty()) {
        println!("cargo::rustc-cfg=no_database_url");
    }
}
