//! [`PostgresKeyStore`]: subjects' keys in PostgreSQL (features `privacy` and `postgres`).
//!
//! The tables `aggregato_subject_keys` and `aggregato_erased_subjects` come with the event
//! store's migrations ([`MIGRATOR`](crate::store::postgres::MIGRATOR));
//! [`PostgresKeyStore::migrate`] applies the same ones. Lookups are one query each, without
//! locks. The changes (a subject's first key, a forget, a re-registration) take a
//! transaction-scoped advisory lock on the subject first, so a first key and a forget of the
//! same subject running at once are ordered: either the forget erases the new key, or the
//! write sees the erasure and is refused. Never both committed with the key alive.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Postgres, Transaction};

use super::envelope::{MasterSlot, new_key, open_key, read_key, rewrap};
use super::rules::{ForWrite, Observed, ObservedColumns, StoredKey};
use super::{Erasure, KeyLookup, KeyStore, Rotation, SubjectKey};
use crate::privacy::{MasterKey, PrivacyError, Subject};

/// A [`KeyStore`] in a PostgreSQL schema (the pool's current schema, with the tables of
/// [`Self::migrate`]). Cheap to clone: clones share the pool and the master key.
///
/// ```no_run
/// # async fn example(pool: sqlx::PgPool) -> Result<(), aggregato::privacy::PrivacyError> {
/// use aggregato::privacy::{LocalMasterKey, postgres::PostgresKeyStore};
///
/// let master = LocalMasterKey::from_bytes("master-1", &[7; 32]).expect("32 bytes");
/// let keys = PostgresKeyStore::new(pool, master);
/// keys.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresKeyStore {
    pool: PgPool,
    master: Arc<MasterSlot>,
}

const OBSERVE: &str = "SELECT \
    (SELECT MAX(generation) FROM aggregato_erased_subjects WHERE tenant = $1 AND subject = $2)::BIGINT, \
    k.generation::BIGINT, k.master_key_id, k.wrapped_key \
    FROM (SELECT 1) AS one \
    LEFT JOIN aggregato_subject_keys AS k ON k.tenant = $1 AND k.subject = $2";

const UPSERT_KEY: &str = "INSERT INTO aggregato_subject_keys \
    (tenant, subject, generation, master_key_id, wrapped_key) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (tenant, subject) DO UPDATE SET generation = excluded.generation, \
    master_key_id = excluded.master_key_id, wrapped_key = excluded.wrapped_key, \
    created_at = now()";

/// The first key of the advisory locks taken on subjects (ASCII `agg1`): locks of the
/// two-key form live apart from the single-key ones other code may take.
const LOCK_CLASS: i32 = 0x6167_6731;

impl PostgresKeyStore {
    /// Keys in `pool`'s current schema, wrapped under `master`.
    pub fn new(pool: PgPool, master: impl MasterKey + 'static) -> Self {
        Self::with_master(pool, Arc::new(master))
    }

    /// [`new`](Self::new) with a shared master key.
    pub fn with_master(pool: PgPool, master: Arc<dyn MasterKey>) -> Self {
        Self {
            pool,
            master: Arc::new(MasterSlot::new(master)),
        }
    }

    /// Applies the pending migrations of the event store's
    /// [`MIGRATOR`](crate::store::postgres::MIGRATOR), which create the key tables, to the
    /// pool's current schema. Idempotent.
    pub async fn migrate(&self) -> Result<(), PrivacyError> {
        crate::store::postgres::MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| PrivacyError::backend("applied the migrations", error))
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn observe(
        connection: &mut PgConnection,
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

    /// A transaction holding the subject's advisory lock, and what it sees of the subject.
    async fn lock(
        &self,
        subject: &Subject,
    ) -> Result<(Transaction<'static, Postgres>, Observed), PrivacyError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|error| PrivacyError::backend("began a transaction", error))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(31) || $3))")
            .bind(LOCK_CLASS)
            .bind(subject.tenant())
            .bind(subject.id())
            .execute(&mut *tx)
            .await
            .map_err(|error| PrivacyError::backend("locked a subject", error))?;
        // Read after the lock: under READ COMMITTED each statement sees what committed
        // before it began, so this sees every change of the lock's previous holder.
        let observed = Self::observe(&mut tx, subject).await?;
        Ok((tx, observed))
    }

    async fn upsert(
        connection: &mut PgConnection,
        subject: &Subject,
        row: &StoredKey,
    ) -> Result<(), PrivacyError> {
        sqlx::query(UPSERT_KEY)
            .bind(subject.tenant())
            .bind(subject.id())
            .bind(i32::try_from(row.generation).unwrap_or(i32::MAX))
            .bind(&row.master_key_id)
            .bind(&row.wrapped)
            .execute(connection)
            .await
            .map_err(|error| PrivacyError::backend("stored a subject's key", error))?;
        Ok(())
    }
}

fn commit_error(error: sqlx::Error) -> PrivacyError {
    PrivacyError::backend("committed", error)
}

#[async_trait]
impl KeyStore for PostgresKeyStore {
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
        // Wrapped before the lock is taken: the master key may be a remote KMS.
        let (key, row) = new_key(&*master, subject, 1).await?;
        let (mut tx, observed) = self.lock(subject).await?;
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
        let (mut tx, observed) = self.lock(subject).await?;
        if let Some(generation) = observed.to_erase() {
            sqlx::query(
                "INSERT INTO aggregato_erased_subjects (tenant, subject, generation) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(subject.tenant())
            .bind(subject.id())
            .bind(i32::try_from(generation).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await
            .map_err(|error| PrivacyError::backend("recorded an erasure", error))?;
        }
        let deleted =
            sqlx::query("DELETE FROM aggregato_subject_keys WHERE tenant = $1 AND subject = $2")
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
        let (mut tx, observed) = self.lock(subject).await?;
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
            let rows: Vec<(String, String, i32, String, Vec<u8>)> = sqlx::query_as(
                "SELECT tenant, subject, generation, master_key_id, wrapped_key \
                 FROM aggregato_subject_keys WHERE master_key_id <> $1 LIMIT 256",
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
                let Some(row) = ObservedColumns::key_row(generation.into(), master_key_id, wrapped)
                    .decode(&subject)?
                    .key
                else {
                    continue;
                };
                let wrapped = rewrap(&*old, &*new, &subject, &row).await?;
                // Only the row as read: a key forgotten or replaced meanwhile is left alone
                // (a replaced one is met again by the next page).
                let updated = sqlx::query(
                    "UPDATE aggregato_subject_keys SET master_key_id = $1, wrapped_key = $2 \
                     WHERE tenant = $3 AND subject = $4 AND generation = $5 AND master_key_id = $6",
                )
                .bind(new.id())
                .bind(&wrapped)
                .bind(subject.tenant())
                .bind(subject.id())
                .bind(generation)
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
