//! [`SqliteKeyStore`]: subjects' keys in a SQLite file (features `privacy` and `sqlite`).
//!
//! The tables `aggregato_subject_keys` and `aggregato_erased_subjects` come with the event
//! store's migrations ([`MIGRATOR`](crate::store::sqlite::MIGRATOR)); [`SqliteKeyStore::migrate`]
//! applies the same ones. Lookups are one query each; the changes (a subject's first key, a
//! forget, a re-registration) run in `BEGIN IMMEDIATE` transactions, so SQLite's write lock
//! orders them: a first key and a forget of the same subject never both win.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use super::envelope::{MasterSlot, new_key, open_key, read_key, rewrap};
use super::rules::{ForWrite, Observed, ObservedColumns, StoredKey};
use super::{Erasure, KeyLookup, KeyStore, Rotation, SubjectKey};
use crate::privacy::{MasterKey, PrivacyError, Subject};

/// A [`KeyStore`] in a SQLite database (the tables of [`Self::migrate`]). Cheap to clone:
/// clones share the pool and the master key.
///
/// ```no_run
/// # async fn example(pool: sqlx::SqlitePool) -> Result<(), aggregato::privacy::PrivacyError> {
/// use aggregato::privacy::{LocalMasterKey, sqlite::SqliteKeyStore};
///
/// let master = LocalMasterKey::from_bytes("master-1", &[7; 32]).expect("32 bytes");
/// let keys = SqliteKeyStore::new(pool, master);
/// keys.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteKeyStore {
    pool: SqlitePool,
    master: Arc<MasterSlot>,
}

const OBSERVE: &str = "SELECT \
    (SELECT MAX(generation) FROM aggregato_erased_subjects WHERE tenant = ?1 AND subject = ?2), \
    k.generation, k.master_key_id, k.wrapped_key \
    FROM (SELECT 1) AS one \
    LEFT JOIN aggregato_subject_keys AS k ON k.tenant = ?1 AND k.subject = ?2";

const UPSERT_KEY: &str = "INSERT INTO aggregato_subject_keys \
    (tenant, subject, generation, master_key_id, wrapped_key, created_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
    ON CONFLICT (tenant, subject) DO UPDATE SET generation = excluded.generation, \
    master_key_id = excluded.master_key_id, wrapped_key = excluded.wrapped_key, \
    created_at = excluded.created_at";

impl SqliteKeyStore {
    /// Keys in `pool`'s database, wrapped under `master`.
    pub fn new(pool: SqlitePool, master: impl MasterKey + 'static) -> Self {
        Self::with_master(pool, Arc::new(master))
    }

    /// [`new`](Self::new) with a shared master key.
    pub fn with_master(pool: SqlitePool, master: Arc<dyn MasterKey>) -> Self {
        Self {
            pool,
            master: Arc::new(MasterSlot::new(master)),
        }
    }

    /// Applies the pending migrations of the event store's
    /// [`MIGRATOR`](crate::store::sqlite::MIGRATOR), which create the key tables.
    /// Idempotent.
    pub async fn migrate(&self) -> Result<(), PrivacyError> {
        crate::store::sqlite::MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| PrivacyError::backend("applied the migrations", error))
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn observe(
        connection: &mut SqliteConnection,
        subject: &Subject,
    ) -> Result<Observed, PrivacyError> {
        let (erased_through, generation, master_key_id, wrapped) = sqlx::query_as(OBSERVE)
            .bind(subject.tenant())
            .bind(subject.id())
            .fetch_one(connection)
            .await
            .map_err(|error| PrivacyError::backend("read the key of a subject", error))?;
        ObservedColumns {
            erased_through,
            generation,
            master_key_id,
            wrapped,
        }
        .decode(subject)
    }

    async fn observe_now(&self, subject: &Subject) -> Result<Observed, PrivacyError> {
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(|error| PrivacyError::backend("connected", error))?;
        Self::observe(&mut connection, subject).await
    }

    async fn upsert(
        connection: &mut SqliteConnection,
        subject: &Subject,
        row: &StoredKey,
    ) -> Result<(), PrivacyError> {
        sqlx::query(UPSERT_KEY)
            .bind(subject.tenant())
            .bind(subject.id())
            .bind(i64::from(row.generation))
            .bind(&row.master_key_id)
            .bind(&row.wrapped)
            .bind(now_millis())
            .execute(connection)
            .await
            .map_err(|error| PrivacyError::backend("stored a subject's key", error))?;
        Ok(())
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, PrivacyError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|error| PrivacyError::backend("began a transaction", error))
    }
}

fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn commit_error(error: sqlx::Error) -> PrivacyError {
    PrivacyError::backend("committed", error)
}

#[async_trait]
impl KeyStore for SqliteKeyStore {
    async fn key_for_write(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError> {
        let master = self.master.get();
        let observed = self.observe_now(subject).await?;
        match observed.for_write() {
            ForWrite::Use(row) => {
                return Ok(SubjectKey {
                    generation: row.generation,
                    key: open_key(&*master, subject, row).await?,
                });
            }
            ForWrite::Erased => {
                return Err(PrivacyError::SubjectErased {
                    subject: subject.clone(),
                });
            }
            ForWrite::Create => {}
        }
        // Wrapped before the write lock is taken: the master key may be a remote KMS.
        let (key, row) = new_key(&*master, subject, 1).await?;
        let mut tx = self.begin().await?;
        let observed = Self::observe(&mut tx, subject).await?;
        let chosen = match observed.for_write() {
            ForWrite::Create => {
                Self::upsert(&mut tx, subject, &row).await?;
                SubjectKey { generation: 1, key }
            }
            // Another writer created it first.
            ForWrite::Use(existing) => SubjectKey {
                generation: existing.generation,
                key: open_key(&*master, subject, existing).await?,
            },
            ForWrite::Erased => {
                return Err(PrivacyError::SubjectErased {
                    subject: subject.clone(),
                });
            }
        };
        tx.commit().await.map_err(commit_error)?;
        Ok(chosen)
    }

    async fn key_for_read(
        &self,
        subject: &Subject,
        generation: u32,
    ) -> Result<KeyLookup, PrivacyError> {
        let master = self.master.get();
        let observed = self.observe_now(subject).await?;
        read_key(&observed, &*master, subject, generation).await
    }

    async fn forget(&self, subject: &Subject) -> Result<Erasure, PrivacyError> {
        let mut tx = self.begin().await?;
        let observed = Self::observe(&mut tx, subject).await?;
        if let Some(generation) = observed.to_erase() {
            sqlx::query(
                "INSERT INTO aggregato_erased_subjects (tenant, subject, generation, erased_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )
            .bind(subject.tenant())
            .bind(subject.id())
            .bind(i64::from(generation))
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .map_err(|error| PrivacyError::backend("recorded an erasure", error))?;
        }
        let deleted =
            sqlx::query("DELETE FROM aggregato_subject_keys WHERE tenant = ?1 AND subject = ?2")
                .bind(subject.tenant())
                .bind(subject.id())
                .execute(&mut *tx)
                .await
                .map_err(|error| PrivacyError::backend("deleted a subject's key", error))?;
        tx.commit().await.map_err(commit_error)?;
        Ok(Erasure {
            subject: subject.clone(),
            erased_through: observed.to_erase().or(observed.erased_through).unwrap_or(0),
            key_deleted: deleted.rows_affected() > 0,
        })
    }

    async fn re_register(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError> {
        let master = self.master.get();
        let mut tx = self.begin().await?;
        let observed = Self::observe(&mut tx, subject).await?;
        if let Some(row) = observed.active() {
            return Ok(SubjectKey {
                generation: row.generation,
                key: open_key(&*master, subject, row).await?,
            });
        }
        let generation = observed.next_generation();
        let (key, row) = new_key(&*master, subject, generation).await?;
        Self::upsert(&mut tx, subject, &row).await?;
        tx.commit().await.map_err(commit_error)?;
        Ok(SubjectKey { generation, key })
    }

    async fn rotate_master_key(&self, new: Arc<dyn MasterKey>) -> Result<Rotation, PrivacyError> {
        let old = self.master.get();
        let mut rewrapped = 0;
        loop {
            let rows: Vec<(String, String, i64, String, Vec<u8>)> = sqlx::query_as(
                "SELECT tenant, subject, generation, master_key_id, wrapped_key \
                 FROM aggregato_subject_keys WHERE master_key_id <> ?1 LIMIT 256",
            )
            .bind(new.id())
            .fetch_all(&self.pool)
            .await
            .map_err(|error| PrivacyError::backend("read the keys to re-wrap", error))?;
            if rows.is_empty() {
                break;
            }
            for (tenant, id, generation, master_key_id, wrapped) in rows {
                let subject = Subject::in_tenant(tenant, id);
                let Some(row) = ObservedColumns::key_row(generation, master_key_id, wrapped)
                    .decode(&subject)?
                    .key
                else {
                    continue;
                };
                let wrapped = rewrap(&*old, &*new, &subject, &row).await?;
                // Only the row as read: a key forgotten or replaced meanwhile is left alone
                // (a replaced one is met again by the next page).
                let updated = sqlx::query(
                    "UPDATE aggregato_subject_keys SET master_key_id = ?1, wrapped_key = ?2 \
                     WHERE tenant = ?3 AND subject = ?4 AND generation = ?5 AND master_key_id = ?6",
                )
                .bind(new.id())
                .bind(&wrapped)
                .bind(subject.tenant())
                .bind(subject.id())
                .bind(i64::from(row.generation))
                .bind(&row.master_key_id)
                .execute(&self.pool)
                .await
                .map_err(|error| PrivacyError::backend("re-wrapped a key", error))?;
                rewrapped += updated.rows_affected();
            }
        }
        self.master.set(Arc::clone(&new));
        Ok(Rotation {
            master_key: new.id().to_owned(),
            rewrapped,
        })
    }
}
