//! Checks of `forget`: redacted reads, and writes refused until re-registration.

use std::sync::Arc;

use uuid::Uuid;

use super::{fail, fresh_subject, master, ok};
use crate::privacy::{
    FieldContext, FieldEncryptor, KeyLookup, KeyStore, MasterKey, PrivacyError, Protected,
};

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
