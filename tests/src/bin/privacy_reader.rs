//! Reads one protected value again and again through a `CachedKeyStore` (default bound, one
//! second) over a `SqliteKeyStore`, for `tests/privacy.rs` to show that another process sees
//! a forget within the bound.
//!
//! ```text
//! privacy_reader SQLITE_URL MASTER_KEY_HEX SUBJECT EVENT_ID SEALED_VALUE
//! ```
//!
//! The value is the field `name` of event EVENT_ID in stream `S`, sealed for SUBJECT (no
//! tenant) under the master key `m` given as 64 hex digits. Every 10 ms it prints `value V`
//! or `redacted`; it exits after the first `redacted`, or prints `error: ...` and exits 1.

use std::time::Duration;

use aggregato::privacy::sqlite::SqliteKeyStore;
use aggregato::privacy::{
    CachedKeyStore, FieldContext, FieldEncryptor, LocalMasterKey, Protected, Subject,
};
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run().await {
        println!("error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, master_hex, subject, event_id, sealed] = args.as_slice() else {
        return Err(
            "usage: privacy_reader SQLITE_URL MASTER_KEY_HEX SUBJECT EVENT_ID SEALED".into(),
        );
    };
    let bytes = (0..master_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(master_hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()?;
    let master = LocalMasterKey::from_bytes("m", &bytes).ok_or("the master key is not 32 bytes")?;
    let options = SqliteConnectOptions::from_str(url)?.busy_timeout(Duration::from_secs(5));
    let pool = sqlx::SqlitePool::connect_with(options).await?;
    let encryptor = FieldEncryptor::new(CachedKeyStore::new(SqliteKeyStore::new(pool, master)));
    let subject = Subject::new(subject.as_str());
    let event_id = uuid::Uuid::parse_str(event_id)?;
    let place = FieldContext::new("S", event_id, "name");
    let stored = serde_json::Value::String(sealed.clone());
    loop {
        match encryptor
            .decrypt::<String>(&subject, &place, &stored)
            .await?
        {
            Protected::Value(value) => println!("value {value}"),
            Protected::Redacted => {
                println!("redacted");
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
