//! The key-store conformance suite: the checks every
//! [`KeyStore`] must pass unchanged (features `testing` and
//! `privacy`).
//!
//! Each check is a public async function taking `open`, a function that opens a handle on
//! one fresh key storage (a new SQLite file, a new PostgreSQL schema, one
//! [`InMemoryKeyStore`](crate::privacy::InMemoryKeyStore)) with the master key it is given,
//! as a second process sharing the database would. Checks open several handles when they
//! need other processes or another master key.
//!
//! ```no_run
//! # async fn example(pool: sqlx::SqlitePool) {
//! use aggregato::privacy::sqlite::SqliteKeyStore;
//! use aggregato::testing::keys;
//!
//! keys::run_all(|master| SqliteKeyStore::with_master(pool.clone(), master)).await;
//! # }
//! ```
//!
//! A check panics (it is a test assertion) with a message naming the rule the store broke.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::privacy::{
    CachedKeyStore, FieldContext, FieldEncryptor, KeyLookup, KeyStore, LocalMasterKey, MasterKey,
    PrivacyError, Protected, Subject,
};

/// Runs every check, each on handles of the same storage (the checks use subjects of their
/// own).
pub async fn run_all<K, F>(open: F)
where
    K: KeyStore + Clone + 'static,
    F: Fn(Arc<dyn MasterKey>) -> K,
{
    values_round_trip(&open).await;
    moved_or_altered_values_do_not_decrypt(&open).await;
    forgotten_subjects_read_as_redacted(&open).await;
    writes_for_a_forgotten_subject_wait_for_re_registration(&open).await;
    a_first_key_is_created_once_under_concurrent_writers(&open).await;
    master_key_rotation_rewraps_every_key(&open).await;
    a_cache_sees_a_forget_made_elsewhere_within_its_bound(&open).await;
}

/// A fresh random master key.
pub fn master(id: &str) -> Arc<dyn MasterKey> {
    Arc::new(LocalMasterKey::generate(id).unwrap_or_else(|error| fail(&error.to_string())))
}

/// A subject no other check uses.
fn fresh_subject(tenant: &str) -> Subject {
    Subject::in_tenant(tenant, format!("subject-{}", Uuid::now_v7()))
}

#[track_caller]
fn fail(message: &str) -> ! {
    std::panic::panic_any(format!("key store conformance: {message}"))
}

#[track_caller]
fn ok<T>(what: &str, result: Result<T, PrivacyError>) -> T {
    result.unwrap_or_else(|error| fail(&format!("{what} failed: {error}")))
}

/// A struct field value, to show values of any serde shape round-trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    street: String,
    number: u32,
    lines: Vec<String>,
}

/// Values of several shapes sealed for a subject read back equal; every stored form is
/// `agg:v1:1:...`, and the same value sealed twice differs (a fresh nonce each time).
pub async fn values_round_trip<K: KeyStore + 'static>(open: impl Fn(Arc<dyn MasterKey>) -> K) {
    let encryptor = FieldEncryptor::new(open(master("m1")));
    let subject = fresh_subject("");
    let event = Uuid::now_v7();
    let at = |field| FieldContext::new("Customer-1", event, field);
    let name = ok(
        "encrypt",
        encryptor
            .encrypt(&subject, &at("name"), "Zoë \"Ada\" ✓")
            .await,
    );
    assert!(
        name.starts_with("agg:v1:1:"),
        "the stored form is versioned: {name}"
    );
    let again = ok(
        "encrypt",
        encryptor
            .encrypt(&subject, &at("name"), "Zoë \"Ada\" ✓")
            .await,
    );
    assert_ne!(name, again, "each value gets a fresh nonce");
    let read: Protected<String> = ok(
        "decrypt",
        encryptor.decrypt(&subject, &at("name"), &name.into()).await,
    );
    assert_eq!(read, Protected::Value("Zoë \"Ada\" ✓".to_owned()));

    let address = Address {
        street: "Rue de l'Été".to_owned(),
        number: 12,
        lines: vec![String::new(), "b".to_owned()],
    };
    let sealer = ok("sealer", encryptor.sealer(&subject).await);
    assert_eq!(sealer.generation(), 1);
    let stored_address = ok("seal", sealer.seal(&at("address"), &address));
    let stored_age = ok("seal", sealer.seal(&at("age"), &u64::MAX));
    let stored_none = ok("seal", sealer.seal(&at("nick"), &None::<String>));
    let read: Protected<Address> = ok(
        "decrypt",
        encryptor
            .decrypt(&subject, &at("address"), &stored_address.into())
            .await,
    );
    assert_eq!(read, Protected::Value(address));
    let read: Protected<u64> = ok(
        "decrypt",
        encryptor
            .decrypt(&subject, &at("age"), &stored_age.into())
            .await,
    );
    assert_eq!(read, Protected::Value(u64::MAX));
    let read: Protected<Option<String>> = ok(
        "decrypt",
        encryptor
            .decrypt(&subject, &at("nick"), &stored_none.into())
            .await,
    );
    assert_eq!(read, Protected::Value(None));
}

/// A sealed value moved to another field, event, stream, tenant or subject, or altered,
/// fails to decrypt with a typed error; a plain value where a sealed one belongs is refused.
pub async fn moved_or_altered_values_do_not_decrypt<K: KeyStore + 'static>(
    open: impl Fn(Arc<dyn MasterKey>) -> K,
) {
    let encryptor = FieldEncryptor::new(open(master("m1")));
    let subject = fresh_subject("tenant-a");
    let (event, other_event) = (Uuid::now_v7(), Uuid::now_v7());
    let place = FieldContext::new("Customer-7", event, "name");
    let stored = ok("encrypt", encryptor.encrypt(&subject, &place, "Ada").await);
    let json = serde_json::Value::String(stored.clone());

    // The same subject id in another tenant, with a key of its own.
    let other_tenant = Subject::in_tenant("tenant-b", subject.id());
    ok(
        "encrypt",
        encryptor.encrypt(&other_tenant, &place, "x").await,
    );
    let other_subject = fresh_subject("tenant-a");
    ok(
        "encrypt",
        encryptor.encrypt(&other_subject, &place, "x").await,
    );

    let moves = [
        (
            "another field",
            subject.clone(),
            FieldContext::new("Customer-7", event, "email"),
        ),
        (
            "another event",
            subject.clone(),
            FieldContext::new("Customer-7", other_event, "name"),
        ),
        (
            "another stream",
            subject.clone(),
            FieldContext::new("Customer-8", event, "name"),
        ),
        ("another tenant", other_tenant, place),
        ("another subject", other_subject, place),
    ];
    for (what, subject, place) in moves {
        match encryptor.decrypt::<String>(&subject, &place, &json).await {
            Err(PrivacyError::Tampered { .. }) => {}
            other => fail(&format!(
                "a value moved to {what} must fail as Tampered, got {other:?}"
            )),
        }
    }

    // One character of the body changed (still valid base64url).
    let mut altered = stored.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = serde_json::Value::String(String::from_utf8(altered).unwrap_or_default());
    match encryptor
        .decrypt::<String>(&subject, &place, &altered)
        .await
    {
        Err(PrivacyError::Tampered { .. }) => {}
        other => fail(&format!(
            "an altered value must fail as Tampered, got {other:?}"
        )),
    }

    // The header claims a generation the subject never had.
    let forged = serde_json::Value::String(stored.replacen("agg:v1:1:", "agg:v1:7:", 1));
    match encryptor.decrypt::<String>(&subject, &place, &forged).await {
        Err(PrivacyError::UnknownGeneration { generation: 7, .. }) => {}
        other => fail(&format!(
            "a forged generation must fail as UnknownGeneration, got {other:?}"
        )),
    }

    let plain = serde_json::json!("Ada");
    match encryptor.decrypt::<String>(&subject, &place, &plain).await {
        Err(PrivacyError::NotSealed { .. }) => {}
        other => fail(&format!(
            "a plain value must be refused as NotSealed, got {other:?}"
        )),
    }
    let truncated = serde_json::Value::String("agg:v1:1:AAAA".to_owned());
    match encryptor
        .decrypt::<String>(&subject, &place, &truncated)
        .await
    {
        Err(PrivacyError::Malformed { .. }) => {}
        other => fail(&format!(
            "a truncated value must be Malformed, got {other:?}"
        )),
    }

    // A key of a subject never seen: the store lost it (not "forgotten").
    let never = fresh_subject("tenant-a");
    match encryptor.decrypt::<String>(&never, &place, &json).await {
        Err(PrivacyError::KeyMissing { .. }) => {}
        other => fail(&format!(
            "a value of a subject without key and without erasure must fail as KeyMissing, got {other:?}"
        )),
    }
}

/// After `forget`, every value of the subject reads as redacted (never an error), other
/// subjects are untouched, and forgetting again changes nothing.
pub async fn forgotten_subjects_read_as_redacted<K: KeyStore + 'static>(
    open: impl Fn(Arc<dyn MasterKey>) -> K,
) {
    let encryptor = FieldEncryptor::new(open(master("m1")));
    let (gone, kept) = (fresh_subject(""), fresh_subject(""));
    let event = Uuid::now_v7();
    let place = FieldContext::new("Customer-3", event, "name");
    let gone_value: serde_json::Value =
        ok("encrypt", encryptor.encrypt(&gone, &place, "Grace").await).into();
    let gone_number: serde_json::Value = ok(
        "encrypt",
        encryptor
            .encrypt(&gone, &FieldContext::new("Customer-3", event, "age"), &36)
            .await,
    )
    .into();
    let kept_value: serde_json::Value =
        ok("encrypt", encryptor.encrypt(&kept, &place, "Alan").await).into();

    let erasure = ok("forget", encryptor.forget(&gone).await);
    assert_eq!(
        erasure.erased_through, 1,
        "the first key's generation is erased"
    );
    assert!(erasure.key_deleted, "the key is deleted");

    let read: Protected<String> = ok(
        "a read after forget (must be redacted, not an error)",
        encryptor.decrypt(&gone, &place, &gone_value).await,
    );
    assert!(
        read.is_redacted(),
        "a forgotten subject's value reads as redacted"
    );
    let read: Protected<u32> = ok(
        "a read after forget (must be redacted, not an error)",
        encryptor
            .decrypt(
                &gone,
                &FieldContext::new("Customer-3", event, "age"),
                &gone_number,
            )
            .await,
    );
    assert!(
        read.is_redacted(),
        "every field of the subject reads as redacted"
    );
    let read: Protected<String> = ok(
        "decrypt",
        encryptor.decrypt(&kept, &place, &kept_value).await,
    );
    assert_eq!(
        read,
        Protected::Value("Alan".to_owned()),
        "other subjects are untouched"
    );

    let again = ok("forget again", encryptor.forget(&gone).await);
    assert_eq!(again.erased_through, 1);
    assert!(!again.key_deleted, "nothing is left to delete");
    assert!(matches!(
        ok(
            "key_for_read",
            encryptor.keys().key_for_read(&gone, 1).await
        ),
        KeyLookup::Forgotten
    ));
    let redacted: Protected<String> = ok(
        "decrypt the redaction marker",
        encryptor
            .decrypt(&kept, &place, &serde_json::json!("agg:redacted"))
            .await,
    );
    assert!(redacted.is_redacted());
}

/// A write for a forgotten subject is refused until it is re-registered; the new key is a
/// new generation, and the old values stay redacted. Forgetting a subject that never had a
/// key refuses its writes too.
pub async fn writes_for_a_forgotten_subject_wait_for_re_registration<K: KeyStore + 'static>(
    open: impl Fn(Arc<dyn MasterKey>) -> K,
) {
    let encryptor = FieldEncryptor::new(open(master("m1")));
    let subject = fresh_subject("");
    let place = FieldContext::new("Customer-5", Uuid::now_v7(), "name");
    let old: serde_json::Value =
        ok("encrypt", encryptor.encrypt(&subject, &place, "Old").await).into();
    ok("forget", encryptor.forget(&subject).await);
    match encryptor.encrypt(&subject, &place, "New").await {
        Err(PrivacyError::SubjectErased { subject: named }) => assert_eq!(named, subject),
        other => fail(&format!(
            "a write for a forgotten subject must be refused as SubjectErased, got {other:?}"
        )),
    }
    let key = ok("re_register", encryptor.keys().re_register(&subject).await);
    assert_eq!(key.generation, 2, "re-registration makes a new generation");
    let new = ok(
        "encrypt after re-registration",
        encryptor.encrypt(&subject, &place, "New").await,
    );
    assert!(
        new.starts_with("agg:v1:2:"),
        "new values name generation 2: {new}"
    );
    let read: Protected<String> = ok(
        "decrypt",
        encryptor.decrypt(&subject, &place, &new.into()).await,
    );
    assert_eq!(read, Protected::Value("New".to_owned()));
    let read: Protected<String> = ok("decrypt", encryptor.decrypt(&subject, &place, &old).await);
    assert!(
        read.is_redacted(),
        "values of the erased generation stay redacted"
    );
    let again = ok(
        "re_register again",
        encryptor.keys().re_register(&subject).await,
    );
    assert_eq!(
        again.generation, 2,
        "re-registering a live subject keeps its key"
    );

    let stranger = fresh_subject("");
    let erasure = ok(
        "forget a subject without key",
        encryptor.forget(&stranger).await,
    );
    assert_eq!((erasure.erased_through, erasure.key_deleted), (0, false));
    assert!(
        matches!(
            encryptor.encrypt(&stranger, &place, "x").await,
            Err(PrivacyError::SubjectErased { .. })
        ),
        "a subject forgotten before its first write cannot be written"
    );
    let key = ok("re_register", encryptor.keys().re_register(&stranger).await);
    assert_eq!(key.generation, 1);
}

/// Writers racing on a subject's first write end up with one key: every value decrypts.
pub async fn a_first_key_is_created_once_under_concurrent_writers<K>(
    open: impl Fn(Arc<dyn MasterKey>) -> K,
) where
    K: KeyStore + Clone + 'static,
{
    let keys = open(master("m1"));
    let subject = fresh_subject("");
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..8u32 {
        let encryptor = FieldEncryptor::new(keys.clone());
        let subject = subject.clone();
        writers.spawn(async move {
            let event = Uuid::now_v7();
            let stored = encryptor
                .encrypt(&subject, &FieldContext::new("S", event, "n"), &n)
                .await;
            (n, event, stored)
        });
    }
    let reader = FieldEncryptor::new(keys);
    while let Some(joined) = writers.join_next().await {
        let (n, event, stored) = joined.unwrap_or_else(|error| fail(&error.to_string()));
        let stored = ok("a concurrent first write", stored);
        let read: Protected<u32> = ok(
            "decrypt a value of a concurrent first write",
            reader
                .decrypt(
                    &subject,
                    &FieldContext::new("S", event, "n"),
                    &stored.into(),
                )
                .await,
        );
        assert_eq!(read, Protected::Value(n), "all writers used the one key");
    }
}

/// Rotating the master key re-wraps every data key: all values still decrypt (through the
/// rotated handle and a handle opened with the new master key), a handle holding the old
/// master key is refused, and rotating again re-wraps nothing. Values are not touched.
pub async fn master_key_rotation_rewraps_every_key<K: KeyStore + 'static>(
    open: impl Fn(Arc<dyn MasterKey>) -> K,
) {
    let (old, new) = (master("master-old"), master("master-new"));
    let keys = FieldEncryptor::new(open(Arc::clone(&old)));
    let place = FieldContext::new("Customer-9", Uuid::now_v7(), "name");
    let mut written = Vec::new();
    for n in 0..5 {
        let subject = fresh_subject("rotation");
        let stored = ok(
            "encrypt",
            keys.encrypt(&subject, &place, &format!("v{n}")).await,
        );
        written.push((subject, format!("v{n}"), serde_json::Value::String(stored)));
    }
    let forgotten = fresh_subject("rotation");
    let forgotten_value: serde_json::Value =
        ok("encrypt", keys.encrypt(&forgotten, &place, "gone").await).into();
    ok("forget", keys.forget(&forgotten).await);

    let rotation = ok(
        "rotate_master_key",
        keys.keys().rotate_master_key(Arc::clone(&new)).await,
    );
    assert_eq!(rotation.master_key, "master-new");
    assert!(
        rotation.rewrapped >= 5,
        "every live key is re-wrapped (got {})",
        rotation.rewrapped
    );
    let fresh_handle = FieldEncryptor::new(open(Arc::clone(&new)));
    let old_handle = open(Arc::clone(&old));
    for (subject, value, stored) in &written {
        for handle in [&keys, &fresh_handle] {
            let read: Protected<String> = ok(
                "decrypt after rotation",
                handle.decrypt(subject, &place, stored).await,
            );
            assert_eq!(
                read.value(),
                Some(value),
                "values decrypt after the rotation"
            );
        }
        match old_handle.key_for_read(subject, 1).await {
            Err(PrivacyError::UnknownMasterKey {
                stored, current, ..
            }) => {
                assert_eq!(
                    (stored.as_str(), current.as_str()),
                    ("master-new", "master-old")
                );
            }
            other => fail(&format!(
                "a store holding the old master key must be refused after the rotation, got {other:?}"
            )),
        }
    }
    let read: Protected<String> = ok(
        "decrypt a forgotten value after rotation",
        fresh_handle
            .decrypt(&forgotten, &place, &forgotten_value)
            .await,
    );
    assert!(
        read.is_redacted(),
        "a rotation does not bring a forgotten subject back"
    );
    let new_subject = fresh_subject("rotation");
    let stored = ok(
        "encrypt after rotation",
        keys.encrypt(&new_subject, &place, "n").await,
    );
    let read: Protected<String> = ok(
        "decrypt a key made after rotation",
        fresh_handle
            .decrypt(&new_subject, &place, &stored.into())
            .await,
    );
    assert_eq!(
        read.value().map(String::as_str),
        Some("n"),
        "new keys are wrapped under the new master"
    );
    let again = ok(
        "rotate again",
        fresh_handle
            .keys()
            .rotate_master_key(Arc::clone(&new))
            .await,
    );
    assert_eq!(
        again.rewrapped, 0,
        "a second rotation to the same key re-wraps nothing"
    );
}

/// A [`CachedKeyStore`] (default bound, one second) over one handle: a forget made through
/// *another* handle (another process) stops its reads and writes of the subject within the
/// bound. With a long bound, it serves a key forgotten elsewhere from memory (it does cache),
/// while a forget through the cache itself is seen at once.
pub async fn a_cache_sees_a_forget_made_elsewhere_within_its_bound<K: KeyStore + 'static>(
    open: impl Fn(Arc<dyn MasterKey>) -> K,
) {
    let master = master("m1");
    let cached = FieldEncryptor::new(CachedKeyStore::new(open(Arc::clone(&master))));
    let elsewhere = FieldEncryptor::new(open(Arc::clone(&master)));
    let subject = fresh_subject("");
    let place = FieldContext::new("Customer-11", Uuid::now_v7(), "name");
    let stored: serde_json::Value =
        ok("encrypt", cached.encrypt(&subject, &place, "Kay").await).into();
    let read: Protected<String> = ok("decrypt", cached.decrypt(&subject, &place, &stored).await);
    assert_eq!(read.value().map(String::as_str), Some("Kay"));

    ok("forget elsewhere", elsewhere.forget(&subject).await);
    let forgotten_at = Instant::now();
    let bound = Duration::from_secs(1);
    loop {
        let read: Protected<String> = ok(
            "decrypt through the cache",
            cached.decrypt(&subject, &place, &stored).await,
        );
        let write = cached.encrypt(&subject, &place, "again").await;
        if read.is_redacted() && matches!(write, Err(PrivacyError::SubjectErased { .. })) {
            break;
        }
        // The margin covers a busy machine's scheduling, not the cache.
        if forgotten_at.elapsed() > bound + Duration::from_millis(500) {
            fail(&format!(
                "a forget made elsewhere was not seen through the cache within its bound of {bound:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let local = fresh_subject("");
    let stored: serde_json::Value =
        ok("encrypt", cached.encrypt(&local, &place, "Lin").await).into();
    ok(
        "decrypt",
        cached.decrypt::<String>(&local, &place, &stored).await,
    );
    ok("forget through the cache", cached.forget(&local).await);
    let read: Protected<String> = ok("decrypt", cached.decrypt(&local, &place, &stored).await);
    assert!(
        read.is_redacted(),
        "a forget through the cache is seen at once"
    );
}
