//! [`FieldEncryptor`]: what the generated encoding calls for each protected field, sealing a
//! serde value into its stored form and opening it again.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::binding::field_binding;
use super::stored::{self, StoredForm};
use super::{
    Erasure, FieldContext, KeyLookup, KeyStore, PrivacyError, Protected, Subject, SubjectKey,
};

/// Seals and opens protected fields with the subjects' keys from a [`KeyStore`]. Cheap to
/// clone: clones share the key store.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), aggregato::privacy::PrivacyError> {
/// use aggregato::privacy::*;
///
/// let keys = InMemoryKeyStore::new(LocalMasterKey::generate("master-1")?);
/// let encryptor = FieldEncryptor::new(keys);
/// let ada = Subject::new("customer-42");
/// let event_id = uuid::Uuid::now_v7();
/// let place = FieldContext::new("Customer-42", event_id, "name");
///
/// let stored = encryptor.encrypt(&ada, &place, "Ada Lovelace").await?;
/// assert!(stored.starts_with("agg:v1:1:"));
/// let json = serde_json::Value::String(stored);
/// let read: Protected<String> = encryptor.decrypt(&ada, &place, &json).await?;
/// assert_eq!(read, Protected::Value("Ada Lovelace".to_owned()));
///
/// // Another field, same ciphertext: refused.
/// let elsewhere = FieldContext::new("Customer-42", event_id, "email");
/// let moved = encryptor.decrypt::<String>(&ada, &elsewhere, &json).await;
/// assert!(matches!(moved, Err(PrivacyError::Tampered { .. })));
///
/// // Crypto-shredding: after `forget`, the value reads as redacted, never as an error.
/// encryptor.forget(&ada).await?;
/// let read: Protected<String> = encryptor.decrypt(&ada, &place, &json).await?;
/// assert!(read.is_redacted());
/// // And new data about the subject is refused until it is re-registered.
/// let refused = encryptor.encrypt(&ada, &place, "Ada").await;
/// assert!(matches!(refused, Err(PrivacyError::SubjectErased { .. })));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FieldEncryptor {
    keys: Arc<dyn KeyStore>,
}

impl std::fmt::Debug for FieldEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldEncryptor").finish_non_exhaustive()
    }
}

impl FieldEncryptor {
    /// An encryptor using `keys`.
    pub fn new(keys: impl KeyStore + 'static) -> Self {
        Self::from_shared(Arc::new(keys))
    }

    /// An encryptor using a shared key store.
    pub fn from_shared(keys: Arc<dyn KeyStore>) -> Self {
        Self { keys }
    }

    /// The key store.
    pub fn keys(&self) -> &Arc<dyn KeyStore> {
        &self.keys
    }

    /// A [`Sealer`] for `subject`: its write key fetched once, for sealing several fields of
    /// one event without a lookup each. Refused for a forgotten subject
    /// ([`PrivacyError::SubjectErased`]).
    pub async fn sealer(&self, subject: &Subject) -> Result<Sealer, PrivacyError> {
        Ok(Sealer {
            subject: subject.clone(),
            key: self.keys.key_for_write(subject).await?,
        })
    }

    /// The stored form of `value`, sealed for `subject` at `place` (see
    /// [`stored`](super::stored) for the format). Put it where the value stood, as a JSON
    /// string.
    pub async fn encrypt<T: Serialize + ?Sized>(
        &self,
        subject: &Subject,
        place: &FieldContext<'_>,
        value: &T,
    ) -> Result<String, PrivacyError> {
        self.sealer(subject).await?.seal(place, value)
    }

    /// The value of a protected field read from storage: `stored` must be a stored form
    /// (sealed or redacted). [`Protected::Redacted`] when the subject was forgotten; a typed
    /// error when the value was altered or moved ([`PrivacyError::Tampered`]) or is a plain
    /// value ([`PrivacyError::NotSealed`]).
    pub async fn decrypt<T: DeserializeOwned>(
        &self,
        subject: &Subject,
        place: &FieldContext<'_>,
        stored: &serde_json::Value,
    ) -> Result<Protected<T>, PrivacyError> {
        let not_sealed = || PrivacyError::NotSealed {
            field: place.field.to_owned(),
            event_id: place.event_id,
        };
        let text = stored.as_str().ok_or_else(not_sealed)?;
        let (generation, bytes) = match stored::parse(text) {
            StoredForm::Sealed { generation, bytes } => (generation, bytes),
            StoredForm::Redacted => return Ok(Protected::Redacted),
            StoredForm::Plain => return Err(not_sealed()),
            StoredForm::Unsupported(version) => {
                return Err(PrivacyError::UnsupportedFormat {
                    field: place.field.to_owned(),
                    event_id: place.event_id,
                    version,
                });
            }
            StoredForm::Malformed(reason) => {
                return Err(PrivacyError::Malformed {
                    field: place.field.to_owned(),
                    event_id: place.event_id,
                    reason: reason.to_owned(),
                });
            }
        };
        let key = match self.keys.key_for_read(subject, generation).await? {
            KeyLookup::Key(key) => key,
            KeyLookup::Forgotten => return Ok(Protected::Redacted),
        };
        let plaintext = key
            .open(&bytes, &field_binding(subject, place, generation))
            .ok_or_else(|| PrivacyError::Tampered {
                subject: subject.clone(),
                stream: place.stream.to_owned(),
                event_id: place.event_id,
                field: place.field.to_owned(),
            })?;
        serde_json::from_slice(&plaintext)
            .map(Protected::Value)
            .map_err(|source| PrivacyError::Deserialize {
                field: place.field.to_owned(),
                event_id: place.event_id,
                source,
            })
    }

    /// Forgets `subject` ([`KeyStore::forget`]).
    pub async fn forget(&self, subject: &Subject) -> Result<Erasure, PrivacyError> {
        self.keys.forget(subject).await
    }
}

/// A subject's write key, fetched once by [`FieldEncryptor::sealer`], sealing fields without
/// further lookups (synchronously, so serialization code can call it).
#[derive(Debug, Clone)]
pub struct Sealer {
    subject: Subject,
    key: SubjectKey,
}

impl Sealer {
    /// The stored form of `value` at `place`, with a fresh random nonce.
    pub fn seal<T: Serialize + ?Sized>(
        &self,
        place: &FieldContext<'_>,
        value: &T,
    ) -> Result<String, PrivacyError> {
        let plaintext = Zeroizing::new(serde_json::to_vec(value).map_err(|source| {
            PrivacyError::Serialize {
                field: place.field.to_owned(),
                source,
            }
        })?);
        let generation = self.key.generation;
        let sealed = self
            .key
            .key
            .seal(&plaintext, &field_binding(&self.subject, place, generation))?;
        Ok(stored::format_sealed(generation, &sealed))
    }

    /// The subject.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The generation of the subject's key that seals.
    pub fn generation(&self) -> u32 {
        self.key.generation
    }
}
