//! Sets `cfg(no_database_url)` when `DATABASE_URL` is unset or empty, `cfg(no_nats_url)`
//! when `NATS_URL` is, `cfg(no_amqp_url)` when `AMQP_URL` is, and `cfg(no_kafka_brokers)` when
//! `KAFKA_BROKERS` is, so the PostgreSQL, NATS, RabbitMQ and Kafka tests are built as ignored
//! tests, with the reason, and `cargo test` counts them as ignored instead of passed. Setting
//! or clearing any of these variables rebuilds them. See DEVELOPERS.md.

fn main() {
    for (variable, cfg) in [
        ("DATABASE_URL", "no_database_url"),
        ("NATS_URL", "no_nats_url"),
        ("AMQP_URL", "no_amqp_url"),
        ("KAFKA_BROKERS", "no_kafka_brokers"),
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(variable).is_none_or(|url| url.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
