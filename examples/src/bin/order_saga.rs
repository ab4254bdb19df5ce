//! Runs the order saga on demo orders and prints each step and compensation as it happens.
//!
//! `cargo run -p aggregato-examples --bin order_saga` runs six orders on a SQLite file in a
//! temporary directory: some ship, some are compensated (a declined card, an undeliverable
//! address). Options:
//!
//! - `--orders N`: how many orders (default 6);
//! - `--concurrency C`: how many sagas run at once (default 1);
//! - `--step-delay-ms D`: a pause in every step, standing in for remote calls (default 0);
//! - `--recover-only`: only finish what an earlier, interrupted run left unfinished;
//! - `--quiet`: print only the summary;
//! - the store options of `aggregato_examples::store` (`--sqlite PATH` keeps the file, so a
//!   killed run can be recovered by running again with the same path).
//!
//! Every run first recovers the sagas a previous run left unfinished, then starts the orders
//! not started yet, then prints a summary and checks that stock and payments balance.

use std::sync::Arc;
use std::time::Duration;

use aggregato::saga::SagaExecutor;
use aggregato_examples::order_saga::*;
use aggregato_examples::shop::*;
use aggregato_examples::store::StoreChoice;

struct Options {
    orders: u32,
    concurrency: usize,
    step_delay: Duration,
    recover_only: bool,
    quiet: bool,
    store_args: Vec<String>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        orders: 6,
        concurrency: 1,
        step_delay: Duration::ZERO,
        recover_only: false,
        quiet: false,
        store_args: Vec::new(),
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let value = args.next().ok_or_else(|| format!("{name} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{name} needs a number, got {value}"))
        };
        match arg.as_str() {
            "--orders" => options.orders = number("--orders")? as u32,
            "--concurrency" => options.concurrency = number("--concurrency")?.max(1) as usize,
            "--step-delay-ms" => {
                options.step_delay = Duration::from_millis(number("--step-delay-ms")?)
            }
            "--recover-only" => options.recover_only = true,
            "--quiet" => options.quiet = true,
            _ => {
                options.store_args.push(arg);
                if let Some(value) = args.next_if(|next| !next.starts_with("--")) {
                    options.store_args.push(value);
                }
            }
        }
    }
    Ok(options)
}

type Executor = SagaExecutor<PlaceOrder, SharedStore>;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("order_saga: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse(std::env::args().skip(1))?;
    let choice = StoreChoice::from_args(
        options.store_args.clone(),
        std::env::var(aggregato_examples::store::DATABASE_URL_VAR).ok(),
    )?;
    let opened = choice.open().await?;
    println!("store: {}", opened.description);
    let store: SharedStore = opened.store.clone();

    let mut services = ShopServices::new(Arc::clone(&store));
    services.step_delay = options.step_delay;
    stock_once(&services).await?;
    let quiet = options.quiet;
    // This demo is the only process using its database, so a saga an earlier run left
    // unfinished is not running anywhere: recover takes it over at once. Several processes
    // sharing a store would keep the default threshold (see `with_takeover_after`).
    let executor: Executor = SagaExecutor::new(Arc::clone(&store), services.clone())
        .with_takeover_after(Duration::ZERO)
        .with_observer(move |saga_id, event| {
            if !quiet {
                println!("{}", describe(saga_id, event));
            }
        });

    let recovery = executor.recover().await?;
    if !recovery.resumed.is_empty() {
        println!("recovered {} unfinished saga(s)", recovery.resumed.len());
    }
    for saga_id in &recovery.left_running {
        println!("[{saga_id}] left to the executor running it");
    }
    for failure in &recovery.failed {
        println!("[{}] could not be recovered: {failure}", failure.saga_id);
    }

    if !options.recover_only {
        run_orders(&executor, options.orders, options.concurrency).await?;
    }
    summarize(&store).await
}

/// Stocks the demo SKU on the first run only.
async fn stock_once(services: &ShopServices) -> Result<(), Box<dyn std::error::Error>> {
    let sku = Sku(DEMO_SKU.to_owned());
    if services.inventory.load(&sku).await?.version() == 0 {
        services
            .inventory
            .execute(
                &sku,
                Restock {
                    quantity: DEMO_STOCK,
                },
            )
            .await?;
    }
    Ok(())
}

/// Starts orders `0..count` (those not started by an earlier run), `concurrency` at a time.
async fn run_orders(
    executor: &Executor,
    count: u32,
    concurrency: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let executor = executor.clone();
        let next = Arc::clone(&next);
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, String>(());
                }
                let order = demo_order(n);
                let saga_id = order.order_id.0.clone();
                match executor.start(&saga_id, order).await {
                    Ok(_) | Err(aggregato::saga::SagaError::AlreadyStarted { .. }) => {}
                    Err(error) => return Err(format!("[{saga_id}] {error}")),
                }
            }
        });
    }
    while let Some(worker) = workers.join_next().await {
        worker??;
    }
    Ok(())
}

/// Prints how the orders ended and checks that stock and money add up.
async fn summarize(store: &SharedStore) -> Result<(), Box<dyn std::error::Error>> {
    let audit = audit(store).await.map_err(|error| error.to_string())?;
    println!(
        "orders: {} completed, {} compensated, {} failed, {} unfinished; stock: {} of {DEMO_STOCK} available",
        audit.completed, audit.compensated, audit.failed, audit.unfinished, audit.available
    );
    if audit.problems.is_empty() {
        println!("balanced: every reservation and charge belongs to a shipped order");
        Ok(())
    } else {
        Err(audit.problems.join("\n").into())
    }
}
