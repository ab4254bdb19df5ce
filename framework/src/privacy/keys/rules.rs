//! The erasure rules every key store applies to what it read for one subject: its key row
//! (if any) and the highest erased generation (if it was ever forgotten). Stores differ in
//! how they read and lock; the decisions are made here, once.

/// A key row as stored: the generation, the master key that wrapped it, the wrapped bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredKey {
    pub generation: u32,
    pub master_key_id: String,
    pub wrapped: Vec<u8>,
}

/// What a store read for one subject.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Keys of this generation and below are erased; `None` when never forgotten.
    pub erased_through: Option<u32>,
    /// The key row, if there is one (possibly a stale one restored from a backup).
    pub key: Option<StoredKey>,
}

/// What to do with a read of a value of some generation.
pub(crate) enum ForRead<'a> {
    /// Unwrap this key.
    Unwrap(&'a StoredKey),
    /// The generation was erased: redacted.
    Forgotten,
    /// No key and no erasure: the key store lost the key.
    Missing,
    /// No such generation ever existed, and the subject's key is another one.
    Unknown { current: Option<u32> },
}

/// What to do for a write.
pub(crate) enum ForWrite<'a> {
    /// Seal under this key.
    Use(&'a StoredKey),
    /// First write of a subject never forgotten: create its first key.
    Create,
    /// The subject was forgotten and not re-registered.
    Erased,
}

impl Observed {
    fn erased(&self, generation: u32) -> bool {
        self.erased_through
            .is_some_and(|through| generation <= through)
    }

    /// The key row when it is live: not of an erased generation.
    pub fn active(&self) -> Option<&StoredKey> {
        self.key.as_ref().filter(|key| !self.erased(key.generation))
    }

    pub fn for_read(&self, generation: u32) -> ForRead<'_> {
        if self.erased(generation) {
            return ForRead::Forgotten;
        }
        match self.active() {
            Some(key) if key.generation == generation => ForRead::Unwrap(key),
            Some(key) => ForRead::Unknown {
                current: Some(key.generation),
            },
            None if self.erased_through.is_some() => ForRead::Unknown { current: None },
            None => ForRead::Missing,
        }
    }

    pub fn for_write(&self) -> ForWrite<'_> {
        match (self.active(), self.erased_through) {
            (Some(key), _) => ForWrite::Use(key),
            (None, None) if self.key.is_none() => ForWrite::Create,
            (None, _) => ForWrite::Erased,
        }
    }

    /// The generation a forget records: the highest one that exists or was erased; `None`
    /// when there is nothing new to record (forgotten already, no key since).
    pub fn to_erase(&self) -> Option<u32> {
        let key = self.key.as_ref().map(|key| key.generation);
        match (key, self.erased_through) {
            (None, Some(_)) => None,
            (key, erased) => Some(key.unwrap_or(0).max(erased.unwrap_or(0))),
        }
    }

    /// The generation a re-registration creates: one past everything seen.
    pub fn next_generation(&self) -> u32 {
        let key = self.key.as_ref().map_or(0, |key| key.generation);
        key.max(self.erased_through.unwrap_or(0)).saturating_add(1)
    }
}

/// What the SQL stores' observing query returns, as columns: the highest erased
/// generation, and the key row's generation, master key id and wrapped key (all `NULL`
/// without a key row).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) struct ObservedColumns {
    pub erased_through: Option<i64>,
    pub generation: Option<i64>,
    pub master_key_id: Option<String>,
    pub wrapped: Option<Vec<u8>>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl ObservedColumns {
    /// A key row alone (for a rotation, which reads rows, not subjects).
    pub fn key_row(generation: i64, master_key_id: String, wrapped: Vec<u8>) -> Self {
        Self {
            erased_through: None,
            generation: Some(generation),
            master_key_id: Some(master_key_id),
            wrapped: Some(wrapped),
        }
    }

    /// The observation, or [`PrivacyError::CorruptKey`] for generations out of range.
    pub fn decode(
        self,
        subject: &crate::privacy::Subject,
    ) -> Result<Observed, crate::privacy::PrivacyError> {
        let generation = |value: i64, what: &str| {
            u32::try_from(value).map_err(|_| crate::privacy::PrivacyError::CorruptKey {
                subject: subject.clone(),
                reason: format!("{what} out of range: {value}"),
            })
        };
        let erased_through = self
            .erased_through
            .map(|value| generation(value, "erased generation"))
            .transpose()?;
        let key = match (self.generation, self.master_key_id, self.wrapped) {
            (Some(value), Some(master_key_id), Some(wrapped)) => Some(StoredKey {
                generation: generation(value, "key generation")?,
                master_key_id,
                wrapped,
            }),
            _ => None,
        };
        Ok(Observed {
            erased_through,
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(generation: u32) -> Option<StoredKey> {
        Some(StoredKey {
            generation,
            master_key_id: "m".to_owned(),
            wrapped: vec![],
        })
    }

    #[test]
    fn a_restored_key_of_an_erased_generation_is_refused() {
        let restored = Observed {
            erased_through: Some(1),
            key: key(1),
        };
        assert!(matches!(restored.for_read(1), ForRead::Forgotten));
        assert!(matches!(restored.for_write(), ForWrite::Erased));
        assert_eq!(restored.next_generation(), 2);
        assert_eq!(restored.to_erase(), Some(1));
    }

    #[test]
    fn a_re_registered_subject_writes_its_new_generation_only() {
        let again = Observed {
            erased_through: Some(1),
            key: key(2),
        };
        assert!(matches!(again.for_write(), ForWrite::Use(k) if k.generation == 2));
        assert!(matches!(again.for_read(1), ForRead::Forgotten));
        assert!(matches!(again.for_read(2), ForRead::Unwrap(_)));
        assert!(matches!(
            again.for_read(3),
            ForRead::Unknown { current: Some(2) }
        ));
    }

    #[test]
    fn new_and_lost() {
        let new = Observed::default();
        assert!(matches!(new.for_write(), ForWrite::Create));
        assert!(matches!(new.for_read(1), ForRead::Missing));
        assert_eq!(new.to_erase(), Some(0));
        let forgotten_without_key = Observed {
            erased_through: Some(0),
            key: None,
        };
        assert!(matches!(
            forgotten_without_key.for_write(),
            ForWrite::Erased
        ));
        assert_eq!(forgotten_without_key.to_erase(), None);
        assert_eq!(forgotten_without_key.next_generation(), 1);
    }
}
