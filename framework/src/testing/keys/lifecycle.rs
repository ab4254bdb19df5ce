//! Checks of a key's life: created once, re-wrapped by a master-key rotation, and a
//! cache's bound on seeing a forget made elsewhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{fail, fresh_subject, master, ok};
use crate::privacy::{
    CachedKeyStore, FieldContext, FieldEncryptor, KeyStore, MasterKey, PrivacyError, Protected,
};

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
