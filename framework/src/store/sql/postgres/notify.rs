//! The position watch fed by PostgreSQL `LISTEN`/`NOTIFY`: a task, started by the first
//! `position_watch`, that moves the watch to each head position an append (of any process on
//! the schema) announces, and stops with the store.

use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::task::JoinHandle;

use super::{PostgresEventStore, Shared};

/// The running `LISTEN` task, aborted when the last clone of the store drops it.
#[derive(Debug)]
pub(super) struct ListenerTask(JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PostgresEventStore {
    /// Starts the `LISTEN` task unless it is running.
    pub(super) fn start_listener(&self) {
        let mut listener = self
            .shared
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let is_running = listener.as_ref().is_some_and(|task| !task.0.is_finished());
        if is_running {
            return;
        }
        // Without a runtime there is nothing to run the listener on: the watch then moves with
        // this process's appends only, and subscribers poll as always.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let task = runtime.spawn(listen(self.pool.clone(), Arc::downgrade(&self.shared)));
        *listener = Some(ListenerTask(task));
    }
}

/// Feeds the watch from `NOTIFY`s until the store is dropped. Failures are logged and retried:
/// the watch is only a hint, and subscribers keep polling.
async fn listen(pool: PgPool, shared: Weak<Shared>) {
    loop {
        if let Err(error) = listen_once(&pool, &shared).await {
            tracing::warn!(%error, "aggregato: LISTEN for new events failed; retrying");
        }
        if shared.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen_once(pool: &PgPool, shared: &Weak<Shared>) -> Result<(), sqlx::Error> {
    let channel: String = sqlx::query_scalar("SELECT aggregato_channel()")
        .fetch_one(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(&channel).await?;
    loop {
        let notification = listener.recv().await?;
        let Some(shared) = shared.upgrade() else {
            return Ok(());
        };
        if let Ok(position) = notification.payload().parse() {
            shared.advance(position);
        }
    }
}
