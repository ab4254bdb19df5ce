//! Checks of sealed values: they round-trip, and a value moved or altered does not open.

use std::sync::Arc;

use uuid::Uuid;

use super::{Address, fail, fresh_subject, master, ok};
use crate::privacy::{
    FieldContext, FieldEncryptor, KeyStore, MasterKey, PrivacyError, Protected, Subject,
};

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
