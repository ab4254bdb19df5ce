//! Runs the banking domain and prints every event as it is committed, then brings the bank's
//! SQL views (`aggregato_examples::bank_views`) up to date in the same database and prints
//! the balances and per-day totals they hold.
//!
//! `cargo run -p aggregato-examples --bin bank` runs on a SQLite file in a temporary directory;
//! `-- --sqlite bank.db` keeps the file, `-- --postgres postgres://user@host/db [--schema NAME]`
//! (or `AGGREGATO_DATABASE_URL=postgres://...`) runs on PostgreSQL. See
//! `aggregato_examples::store`.

use aggregato::prelude::*;
use aggregato_examples::bank::*;
use aggregato_examples::bank_views::run::{BATCH_SIZE, Mode, run_views};
use aggregato_examples::store::StoreChoice;

#[tokio::main]
async fn main() {
    let opened = match StoreChoice::from_env() {
        Ok(choice) => choice.open().await,
        Err(usage) => Err(usage.into()),
    };
    let opened = opened.unwrap_or_else(|error| {
        eprintln!("bank: {error}");
        std::process::exit(2);
    });
    println!("store: {}", opened.description);
    let mut risk = RiskEngine {
        max_withdrawal: 5_000,
        ..RiskEngine::default()
    };
    risk.blocked_owners.insert("mallory".to_owned());
    let repository: Repository<BankAccount, _> =
        Repository::new_with_services(opened.store.clone(), BankServices { risk });

    let alice = AccountId("acc-alice".to_owned());
    let mallory = AccountId("acc-mallory".to_owned());
    let script: Vec<(&AccountId, BankAccountCommand)> = vec![
        (
            &alice,
            OpenAccount {
                account_id: alice.clone(),
                owner: "alice".to_owned(),
            }
            .into(),
        ),
        (&alice, DepositMoney { amount: 10_000 }.into()),
        (&alice, WithdrawMoney { amount: 2_500 }.into()),
        (&alice, WithdrawMoney { amount: 50_000 }.into()),
        (&alice, WithdrawMoney { amount: 6_000 }.into()),
        (
            &alice,
            OpenAccount {
                account_id: alice.clone(),
                owner: "alice".to_owned(),
            }
            .into(),
        ),
        (&mallory, DepositMoney { amount: 100 }.into()),
        (
            &mallory,
            OpenAccount {
                account_id: mallory.clone(),
                owner: "mallory".to_owned(),
            }
            .into(),
        ),
        (&mallory, DepositMoney { amount: 700 }.into()),
        (&mallory, WithdrawMoney { amount: 300 }.into()),
        (&alice, CloseAccount.into()),
        (&alice, WithdrawMoney { amount: 5_000 }.into()),
        (&alice, WithdrawMoney { amount: 2_500 }.into()),
        (&alice, CloseAccount.into()),
        (&alice, DepositMoney { amount: 1 }.into()),
    ];

    let metadata = Metadata::new().with_actor("bank-example");
    for (id, command) in script {
        println!("> {id}: {command:?}");
        match repository
            .execute_with_metadata(id, command, metadata.clone())
            .await
        {
            Ok(committed) => {
                for envelope in committed {
                    println!(
                        "  + v{} #{} {} {:?}",
                        envelope.version, envelope.position, envelope.event_type, envelope.payload
                    );
                }
            }
            Err(RepositoryError::Rejected(error)) => println!("  ! rejected: {error}"),
            Err(error) => {
                eprintln!("  ! store failure: {error}");
                std::process::exit(1);
            }
        }
    }

    for id in [&alice, &mallory] {
        match repository.load(id).await {
            Ok(account) => println!(
                "{id}: version {}, balance {}, open: {}",
                account.version(),
                account.state().balance(),
                account.state().is_open()
            ),
            Err(error) => eprintln!("{id}: cannot load: {error}"),
        }
    }

    // The query side: the views catch up from their checkpoint (kept in the same database,
    // so a second run on a kept file projects only the new events) and are read back.
    match run_views(
        opened.store.clone(),
        &opened.database,
        Mode::CatchUp,
        BATCH_SIZE,
        |_| {},
    )
    .await
    {
        Ok(report) => {
            println!(
                "views: checkpoint at #{}, {} event(s) projected in this run",
                report.progress.position, report.progress.handled
            );
            for account in &report.balances {
                println!("view {account}");
            }
            for day in &report.days {
                println!("view day {day}");
            }
        }
        Err(error) => {
            eprintln!("bank: views: {error}");
            std::process::exit(1);
        }
    }
}
