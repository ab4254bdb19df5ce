//! Sets `cfg(no_database_url)` when `DATABASE_URL` is unset or empty, `cfg(no_redis_url)`
//! when `REDIS_URL` is, and `cfg(no_nats_url)` when `NATS_URL` is, so the PostgreSQL, Redis and
//! NATS tests are built as ignored tests, with the
//! reason, and `cargo test` counts them as ignored instead of passed. Setting or clearing
//! either variable rebuilds them. See DEVELOPERS.md.

fn main() {
    for (variable, cfg) in [
        ("DATABASE_URL", "no_database_url"),
        ("REDIS_URL", "no_redis_url"),
        ("NATS_URL", "no_nats_url"),
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(variable).is_none_or(|url| url.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
