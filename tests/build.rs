//! Sets `cfg(no_database_url)` when `DATABASE_URL` is unset or empty, `cfg(no_nats_url)`
//! when `NATS_URL` is, and `cfg(no_amqp_url)` when `AMQP_URL` is, so the PostgreSQL, NATS and
//! RabbitMQ tests are built as ignored tests, with the reason, and `cargo test` counts them as
//! ignored instead of passed. Setting or clearing
//! either variable rebuilds them. See DEVELOPERS.md.

fn main() {
    for (variable, cfg) in [
        ("DATABASE_URL", "no_database_url"),
        ("NATS_URL", "no_nats_url"),
        ("AMQP_URL", "no_amqp_url"),
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(variable).is_none_or(|url| url.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
