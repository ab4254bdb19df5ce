//! [`MasterKey`]: what wraps the subjects' data keys (envelope encryption), and
//! [`LocalMasterKey`], a master key held in the process.
//!
//! Data keys are never stored in the clear: a key store keeps each one wrapped (encrypted)
//! under the application's master key, with the id of that master key beside it. A KMS or an
//! HSM implements [`MasterKey`] so the master key never enters the process.

use std::fmt;

use async_trait::async_trait;

use super::cipher::{DataKey, KEY_LEN};
use super::{MasterKeyError, PrivacyError};

/// Wraps and unwraps data keys. `context` is associated data the wrapping must authenticate
/// (it names the subject and the key's generation), so a wrapped key copied into another
/// subject's row does not unwrap.
#[async_trait]
pub trait MasterKey: Send + Sync + fmt::Debug {
    /// A stable name for this master key (a KMS key ARN, `"master-2026-11"`), stored with
    /// every data key it wraps: rotation finds the keys still under the old one by it.
    fn id(&self) -> &str;

    /// `key`, encrypted under the master key with `context` authenticated.
    async fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<Vec<u8>, MasterKeyError>;

    /// The data key of `wrapped`; [`MasterKeyError::Refused`] when it does not authenticate
    /// (another master key, an altered row, another `context`).
    async fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<DataKey, MasterKeyError>;
}

/// A master key held in this process: AES-256-GCM under 32 bytes the application loads
/// from its secret store. Use a KMS-backed [`MasterKey`] where the master key must not be in
/// the application's memory.
#[derive(Clone)]
pub struct LocalMasterKey {
    id: String,
    key: DataKey,
}

impl LocalMasterKey {
    /// The master key `id` made of `bytes`, which must be 32 random bytes; `None` for
    /// another length.
    pub fn from_bytes(id: impl Into<String>, bytes: &[u8]) -> Option<Self> {
        Some(Self {
            id: id.into(),
            key: DataKey::from_bytes(bytes)?,
        })
    }

    /// A new random master key named `id` (for tests, or to generate one to store).
    pub fn generate(id: impl Into<String>) -> Result<Self, PrivacyError> {
        Ok(Self {
            id: id.into(),
            key: DataKey::generate()?,
        })
    }

    /// The 32 key bytes, to store in the application's secret store.
    pub fn expose_bytes(&self) -> &[u8] {
        self.key.expose_bytes()
    }
}

impl fmt::Debug for LocalMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalMasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl MasterKey for LocalMasterKey {
    fn id(&self) -> &str {
        &self.id
    }

    async fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        self.key
            .seal(key.expose_bytes(), context)
            .map_err(|error| MasterKeyError::Unavailable(Box::new(error)))
    }

    async fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<DataKey, MasterKeyError> {
        let bytes = self
            .key
            .open(wrapped, context)
            .ok_or(MasterKeyError::Refused)?;
        if bytes.len() != KEY_LEN {
            return Err(MasterKeyError::Refused);
        }
        DataKey::from_bytes(&bytes).ok_or(MasterKeyError::Refused)
    }
}
