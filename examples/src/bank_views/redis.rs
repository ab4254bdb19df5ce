//! The bank views in Redis, with a TTL: [`RedisBankViews`].
//!
//! Keys, under a prefix chosen by the caller (so several views, or tests, share a server):
//!
//! - `{prefix}account:{id}`: a hash (`owner`, `balance`, `open`);
//! - `{prefix}day:{YYYY-MM-DD}`: a hash (`deposits`, `deposit_count`, `withdrawals`,
//!   `withdrawal_count`), UTC days;
//! - `{prefix}seen:{event id}`: the mark of an event already applied.
//!
//! Every write sets the key's expiry to the TTL again, so the views hold what moved within
//! the TTL: a cache of recent activity, not a ledger. An account whose hash expired and that
//! moves again comes back without its owner.
//!
//! # At least once, applied once
//!
//! Redis cannot join the checkpoint's transaction: after a crash the runner hands out the
//! events of the batch in flight again. Each event is applied by one Lua script, which Redis
//! runs atomically: it sets the event's mark only if missing (`SET NX`, with the same TTL) and
//! writes only then, so a re-delivered event changes nothing, and the counters of a day are
//! never added to twice. A re-delivery later than the TTL would be applied again: keep the TTL
//! longer than a runner can take to come back. The keys of one event are not declared to one
//! hash slot, so this is for a single Redis node, not a cluster.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aggregato::prelude::*;
use aggregato::projection::Context;
use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, RedisError, Script};
use time::Date;

use super::{AccountBalance, BankViewEvent, Change, ChangeKind, DayTotals};
use crate::bank::{AccountClosed, AccountOpened, BankAccount, MoneyDeposited, MoneyWithdrawn};

/// Marks the event (KEYS[1]) and, only if it was not marked, applies its change to the
/// account (KEYS[2]) and, for a move, the day (KEYS[3]). ARGV: TTL in seconds, the kind, its
/// values.
const APPLY: &str = r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
    return 0
end
local kind = ARGV[2]
if kind == 'opened' then
    redis.call('HSET', KEYS[2], 'owner', ARGV[3], 'balance', 0, 'open', 1)
elseif kind == 'moved' then
    redis.call('HSET', KEYS[2], 'balance', ARGV[3])
    redis.call('HINCRBY', KEYS[3], 'deposits', ARGV[4])
    redis.call('HINCRBY', KEYS[3], 'deposit_count', ARGV[5])
    redis.call('HINCRBY', KEYS[3], 'withdrawals', ARGV[6])
    redis.call('HINCRBY', KEYS[3], 'withdrawal_count', ARGV[7])
    redis.call('EXPIRE', KEYS[3], ARGV[1])
elseif kind == 'closed' then
    redis.call('HSET', KEYS[2], 'open', 0)
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
";

/// Balances and per-day totals in Redis keys that expire after `ttl` without writes (see the
/// [module](self)). Its transaction is `()`: run it with `InMemoryCheckpoints`, or any
/// checkpoint store; delivery is at least once and each event is applied once.
///
/// Clones share the connection: keep one to query while a runner owns another.
#[derive(Clone, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    aggregates(BankAccount),
    error = redis::RedisError,
    name = "bank_views_redis",
    reset = clear,
)]
pub struct RedisBankViews {
    connection: MultiplexedConnection,
    prefix: String,
    ttl: Duration,
    script: Script,
    duplicates: Arc<AtomicU64>,
}

impl fmt::Debug for RedisBankViews {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBankViews")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RedisBankViews {
    /// Views in the Redis at `url` (`redis://127.0.0.1:6379`), under keys starting with
    /// `prefix`, expiring `ttl` (whole seconds, at least one) after their last write.
    pub async fn connect(url: &str, prefix: &str, ttl: Duration) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let connection = client.get_multiplexed_async_connection().await?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            ttl: Duration::from_secs(ttl.as_secs().max(1)),
            script: Script::new(APPLY),
            duplicates: Arc::default(),
        })
    }

    /// How many re-delivered events were recognised and skipped, by this value and its
    /// clones.
    pub fn duplicates_skipped(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    fn account_key(&self, account: &str) -> String {
        format!("{}account:{account}", self.prefix)
    }

    fn day_key(&self, day: Date) -> String {
        format!("{}day:{day}", self.prefix)
    }

    /// Applies `change` of the event `event_id`, unless it was applied before.
    async fn apply(&mut self, event_id: uuid::Uuid, change: Change) -> Result<(), RedisError> {
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("{}seen:{event_id}", self.prefix))
            .key(self.account_key(&change.account))
            .arg(self.ttl.as_secs());
        match change.kind {
            ChangeKind::Opened { owner } => {
                invocation.arg("opened").arg(owner);
            }
            ChangeKind::Moved {
                balance,
                day,
                deposited,
                withdrawn,
            } => {
                invocation
                    .key(self.day_key(day))
                    .arg("moved")
                    .arg(balance)
                    .arg(deposited)
                    .arg(u64::from(deposited > 0))
                    .arg(withdrawn)
                    .arg(u64::from(withdrawn > 0));
            }
            ChangeKind::Closed => {
                invocation.arg("closed");
            }
        }
        let applied: i64 = invocation.invoke_async(&mut self.connection).await?;
        if applied == 0 {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Deletes every key under the prefix (marks included, so a rebuild applies every event
    /// again).
    async fn clear(&mut self, _: &mut ()) -> Result<(), RedisError> {
        let pattern = format!("{}*", escape_glob(&self.prefix));
        let mut connection = self.connection.clone();
        let keys: Vec<String> = {
            let mut iter: redis::AsyncIter<'_, String> =
                self.connection.scan_match(&pattern).await?;
            let mut keys = Vec::new();
            while let Some(key) = iter.next_item().await {
                keys.push(key?);
            }
            keys
        };
        for chunk in keys.chunks(500) {
            let _: u64 = connection.del(chunk).await?;
        }
        Ok(())
    }

    /// The account `account`, if the views hold it (it moved within the TTL).
    pub async fn balance(&self, account: &str) -> Result<Option<AccountBalance>, RedisError> {
        let mut connection = self.connection.clone();
        let fields: HashMap<String, String> = connection.hgetall(self.account_key(account)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(AccountBalance {
            account: account.to_owned(),
            owner: fields.get("owner").cloned().unwrap_or_default(),
            balance: number(&fields, "balance")?,
            open: number(&fields, "open")? == 1,
        }))
    }

    /// The totals of the UTC day `day`, if money moved that day within the TTL.
    pub async fn day_totals(&self, day: Date) -> Result<Option<DayTotals>, RedisError> {
        let mut connection = self.connection.clone();
        let fields: HashMap<String, String> = connection.hgetall(self.day_key(day)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(DayTotals {
            day,
            deposits: number(&fields, "deposits")?,
            deposit_count: number(&fields, "deposit_count")?,
            withdrawals: number(&fields, "withdrawals")?,
            withdrawal_count: number(&fields, "withdrawal_count")?,
        }))
    }

    /// How long the account's key has left before it expires (`None`: no such key, or no
    /// expiry).
    pub async fn account_ttl(&self, account: &str) -> Result<Option<Duration>, RedisError> {
        let mut connection = self.connection.clone();
        let millis: i64 = connection.pttl(self.account_key(account)).await?;
        Ok(u64::try_from(millis).ok().map(Duration::from_millis))
    }
}

impl<E: BankViewEvent + Send> Project<E> for RedisBankViews {
    async fn project(&mut self, event: E, context: &mut Context<'_, ()>) -> Result<(), RedisError> {
        let change = event.change(context);
        self.apply(context.event_id(), change).await
    }
}

/// The field `name` of a hash as a number (0 when missing: a counter never incremented).
fn number(fields: &HashMap<String, String>, name: &str) -> Result<u64, RedisError> {
    match fields.get(name) {
        None => Ok(0),
        Some(text) => text.parse().map_err(|_| {
            RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "not a number",
                format!("{name} = {text:?}"),
            ))
        }),
    }
}

/// `prefix` with the characters `SCAN MATCH` reads as a pattern escaped.
fn escape_glob(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
