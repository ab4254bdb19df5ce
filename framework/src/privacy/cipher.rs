//! AES-256-GCM: the [`DataKey`] of a subject, sealing a plaintext under it with a fresh
//! random nonce, and opening it again. Nothing here knows about fields, keys stores or the
//! stored text form.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::PrivacyError;

/// Bytes in an AES-256 key.
pub(crate) const KEY_LEN: usize = 32;
/// Bytes in a GCM nonce (96 bits, the size GCM is defined for).
pub(crate) const NONCE_LEN: usize = 12;
/// Bytes in a GCM tag.
pub(crate) const TAG_LEN: usize = 16;

/// A subject's 256-bit data key, ready to seal and open (its AES key schedule is computed
/// once). Cheap to clone; the key bytes are wiped from memory when the last clone is
/// dropped. Its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct DataKey {
    inner: Arc<Inner>,
}

struct Inner {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    cipher: Aes256Gcm,
}

impl DataKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, PrivacyError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        random(bytes.as_mut_slice())?;
        Ok(Self::from_zeroizing(bytes))
    }

    /// The key made of these 32 bytes (an unwrapped data key); `None` for another length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Self::from_zeroizing(Zeroizing::new(array)))
    }

    fn from_zeroizing(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let cipher = Aes256Gcm::new(&(*bytes).into());
        Self {
            inner: Arc::new(Inner { bytes, cipher }),
        }
    }

    /// The raw key, for a [`MasterKey`](super::MasterKey) to wrap. Keep it no longer than
    /// that takes.
    pub fn expose_bytes(&self) -> &[u8] {
        self.inner.bytes.as_slice()
    }

    /// `nonce || ciphertext || tag` of `plaintext`, with a fresh random nonce, authenticating
    /// `associated_data` too.
    pub(crate) fn seal(
        &self,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, PrivacyError> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let sealed = self
            .inner
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            // AES-GCM refuses only plaintexts past 64 GiB.
            .map_err(|_| PrivacyError::TooLarge {
                bytes: plaintext.len(),
            })?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of `nonce || ciphertext || tag`, or `None` when it does not authenticate
    /// under this key and `associated_data` (or is too short to hold a nonce and a tag).
    pub(crate) fn open(&self, sealed: &[u8], associated_data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.inner
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Fills `buffer` from the operating system's generator.
pub(crate) fn random(buffer: &mut [u8]) -> Result<(), PrivacyError> {
    getrandom::fill(buffer).map_err(|error| PrivacyError::Random(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_with_a_fresh_nonce_and_binds_the_associated_data() {
        let key = DataKey::generate().expect("random");
        let a = key.seal(b"hello", b"here").expect("seal");
        let b = key.seal(b"hello", b"here").expect("seal");
        assert_ne!(a, b, "a fresh nonce per value");
        assert_eq!(a.len(), NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(
            key.open(&a, b"here").as_deref().map(Vec::as_slice),
            Some(&b"hello"[..])
        );
        assert!(key.open(&a, b"there").is_none());
        let other = DataKey::generate().expect("random");
        assert!(other.open(&a, b"here").is_none());
        assert!(key.open(&a[..10], b"here").is_none());
    }
}
