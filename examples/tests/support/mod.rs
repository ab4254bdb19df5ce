//! What the bank views' tests share: a history of bank events, the servers they may run
//! against (skipped visibly without them, failing in CI), and a PostgreSQL schema per test.

#![allow(dead_code)] // each test file uses its own part

use aggregato::PostgresEventStore;
use aggregato_examples::bank::{AccountClosed, AccountOpened, MoneyDeposited, MoneyWithdrawn};
use aggregato_examples::bank_views::{AccountBalance, DayTotals};

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// The URL in `variable`, or `None` after saying that `test` is skipped; in CI, where a
/// skipped test would pass for a tested one, fails instead.
pub fn server_url(variable: &str, test: &str) -> Option<String> {
    let url = std::env::var(variable).ok().filter(|url| !url.is_empty());
    if url.is_none() {
        assert!(
            !in_ci(),
            "{test}: {variable} is not set, and CI is: this test must run in CI"
        );
        eprintln!("skipped {test}: {variable} is not set");
    }
    url
}

/// Two accounts' events, in the order appended: `ann` deposits 100, withdraws 30, deposits
/// 5 (balance 75); `bob` deposits 40, withdraws it and closes.
pub fn history<E>() -> Vec<(&'static str, Vec<E>)>
where
    E: From<AccountOpened> + From<MoneyDeposited> + From<MoneyWithdrawn> + From<AccountClosed>,
{
    let opened = |id: &str, owner: &str| {
        E::from(AccountOpened {
            account_id: aggregato_examples::bank::AccountId(id.to_owned()),
            owner: owner.to_owned(),
        })
    };
    let deposited = |amount, balance| E::from(MoneyDeposited { amount, balance });
    let withdrawn = |amount, balance| E::from(MoneyWithdrawn { amount, balance });
    vec![
        (
            "BankAccount-a",
            vec![opened("a", "ann"), deposited(100, 100), withdrawn(30, 70)],
        ),
        (
            "BankAccount-b",
            vec![
                opened("b", "bob"),
                deposited(40, 40),
                withdrawn(40, 0),
                E::from(AccountClosed),
            ],
        ),
        ("BankAccount-a", vec![deposited(5, 75)]),
    ]
}

/// The accounts after [`history`].
pub fn expected_balances() -> Vec<AccountBalance> {
    vec![
        AccountBalance {
            account: "a".into(),
            owner: "ann".into(),
            balance: 75,
            open: true,
        },
        AccountBalance {
            account: "b".into(),
            owner: "bob".into(),
            balance: 0,
            open: false,
        },
    ]
}

/// The sums over `days` of (deposits, count, withdrawals, count): a run across midnight
/// (UTC) splits [`history`] over two days, and the sums stay.
pub fn sums<'a>(days: impl IntoIterator<Item = &'a DayTotals>) -> (u64, u64, u64, u64) {
    days.into_iter().fold((0, 0, 0, 0), |sums, day| {
        (
            sums.0 + day.deposits,
            sums.1 + day.deposit_count,
            sums.2 + day.withdrawals,
            sums.3 + day.withdrawal_count,
        )
    })
}

/// The sums of [`history`]: deposits 100 + 40 + 5, withdrawals 30 + 40.
pub const EXPECTED_SUMS: (u64, u64, u64, u64) = (145, 3, 70, 2);

/// A PostgreSQL store in a schema of its own, dropped with the value.
pub struct PgSchema {
    pub store: PostgresEventStore,
    url: String,
    name: String,
}

impl PgSchema {
    /// A store (migrated) in a new schema of the database at `url`.
    pub async fn new(url: &str) -> Self {
        let name = format!("aggregato_test_views_{}", uuid::Uuid::now_v7().simple());
        let store = PostgresEventStore::connect_in_schema(url, &name)
            .await
            .unwrap_or_else(|error| {
                panic!("DATABASE_URL is set but PostgreSQL is unusable: {error}")
            });
        Self {
            store,
            url: url.to_owned(),
            name,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, where blocking is not allowed.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                use sqlx::Connection as _;
                let mut connection = sqlx::PgConnection::connect(&url)
                    .await
                    .map_err(|error| error.to_string())?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
                )))
                .execute(&mut connection)
                .await
                .map_err(|error| error.to_string())?;
                Ok::<_, String>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}
