//! The order saga split across two processes: the `inventory_service` and `order_service`
//! binaries run as child processes, each on a SQLite file of its own, talking only through
//! the live NATS JetStream named by `NATS_URL` (a stream and subject prefix of the test's own,
//! deleted after it). Every order is answered, stock is reserved once per order, and a second
//! delivery of every `OrderPlaced` (published again under no de-duplication id, as after the
//! broker's window) stores nothing. Without `NATS_URL` the test says it is skipped (and is
//! counted as ignored when built without it); in CI it fails.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aggregato::SqliteEventStore;
use aggregato::outbox::nats::async_nats::{self, jetstream};
use aggregato::prelude::*;
use aggregato_examples::order_services::inventory::{Stock, StockEvent};
use aggregato_examples::order_services::orders::{Order, OrderStatus};
use aggregato_examples::shop::{OrderId, Sku};
use support::{in_ci, server_url};

/// Fails in CI without `NATS_URL`: the NATS test would be skipped there.
#[test]
fn nats_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || std::env::var_os("NATS_URL").is_some_and(|url| !url.is_empty()),
        "CI is set but NATS_URL is not: the NATS tests would be skipped"
    );
}

/// How many orders the order service places: order `n` asks for `1 + n % 3` of the 10 mugs,
/// so orders 5 and 7 find too few left.
const ORDERS: usize = 8;
const REFUSED: [&str; 2] = ["order-5", "order-7"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The test's stream and prefix, deleted when dropped.
struct TestStream {
    url: String,
    prefix: String,
    name: String,
}

impl TestStream {
    fn new(url: String) -> Self {
        let id = uuid::Uuid::now_v7().simple();
        Self {
            url,
            prefix: format!("aggregato_test.{id}"),
            name: format!("AGGREGATO_TEST_{id}"),
        }
    }

    /// The options both services take to meet here.
    fn args(&self) -> [&str; 6] {
        [
            "--nats",
            &self.url,
            "--prefix",
            &self.prefix,
            "--stream",
            &self.name,
        ]
    }

    /// Publishes a copy of every `OrderPlaced` in the stream, with no `Nats-Msg-Id`: stored
    /// and delivered again, as a republish after the duplicate window would be. How many.
    async fn republish_orders(&self) -> usize {
        let context = jetstream::new(async_nats::connect(&self.url).await.expect("connect"));
        let stream = context.get_stream(&self.name).await.expect("the stream");
        let stored = stream.get_info().await.expect("info").state.messages;
        let subject = format!("{}.orders.placed", self.prefix);
        let mut copies = 0;
        for sequence in 1..=stored {
            let message = stream.get_raw_message(sequence).await.expect("a message");
            if message.subject.as_str() == subject {
                context
                    .publish(subject.clone(), message.payload)
                    .await
                    .expect("publish a copy")
                    .await
                    .expect("stored");
                copies += 1;
            }
        }
        copies
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside a runtime, where blocking is not allowed.
        let deleted = std::thread::spawn(move || {
            runtime().block_on(async {
                let client = async_nats::connect(&url).await.map_err(|e| e.to_string())?;
                jetstream::new(client)
                    .delete_stream(&name)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete test stream {}: {deleted:?}", self.name);
        }
    }
}

/// A child process whose output lines arrive on a channel; killed when dropped.
struct Service {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Service {
    fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the service");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("inventory_service | {line}");
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits for `count` lines that `matches`, failing after `within`.
    fn expect(&self, count: usize, within: Duration, matches: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + within;
        let mut seen = 0;
        while seen < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("only {seen} of {count} lines came within {within:?}"));
            if matches(&line) {
                seen += 1;
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn service(binary: &str, stream: &TestStream, database: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .env_remove("AGGREGATO_DATABASE_URL")
        .args(stream.args())
        .arg("--sqlite")
        .arg(database);
    command
}

/// Every answer the inventory stored, per order: `true` for a reservation.
async fn answers(database: &Path) -> BTreeMap<String, Vec<bool>> {
    let store = SqliteEventStore::connect(&database.display().to_string())
        .await
        .expect("open the inventory's store");
    let mut answers: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for event in store
        .read_stream("Stock-mug", 1)
        .await
        .expect("read the stock")
    {
        match event.decode::<StockEvent>().expect("a stock event").payload {
            StockEvent::StockReserved(reserved) => {
                answers.entry(reserved.order_id.0).or_default().push(true)
            }
            StockEvent::ReservationRefused(refused) => {
                answers.entry(refused.order_id.0).or_default().push(false)
            }
            StockEvent::StockAdded(_) => {}
        }
    }
    let stock: Repository<Stock, _> = Repository::new(store);
    let state = stock.load(&Sku("mug".to_owned())).await.expect("load");
    assert_eq!(state.state().available, 0, "10 mugs, all reserved");
    answers
}

#[test]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
fn the_inventory_reserves_stock_once_per_order_across_processes() {
    let test = "the_inventory_reserves_stock_once_per_order_across_processes";
    let Some(url) = server_url("NATS_URL", test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let (orders_db, inventory_db) = (
        dir.path().join("orders.db"),
        dir.path().join("inventory.db"),
    );
    let stream = TestStream::new(url);

    let mut inventory = service(
        env!("CARGO_BIN_EXE_inventory_service"),
        &stream,
        &inventory_db,
    );
    inventory.args(["--stock", "10"]);
    let inventory = Service::start(inventory);
    inventory.expect(1, Duration::from_secs(60), |line| line.starts_with("ready"));

    let output = service(env!("CARGO_BIN_EXE_order_service"), &stream, &orders_db)
        .args(["--orders", &ORDERS.to_string(), "--timeout-secs", "60"])
        .output()
        .expect("run the order service");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("order_service:\n{stdout}");
    assert!(
        output.status.success(),
        "the order service failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("orders: 6 confirmed, 2 cancelled"),
        "{stdout}"
    );
    inventory.expect(ORDERS, Duration::from_secs(30), |line| {
        line.starts_with("[order-") && !line.contains("again")
    });

    // Every order placed, delivered a second time: no second answer.
    let copies = runtime().block_on(stream.republish_orders());
    assert_eq!(copies, ORDERS);
    inventory.expect(ORDERS, Duration::from_secs(30), |line| {
        line.contains("(again: nothing new stored)")
    });
    drop(inventory);

    let answers = runtime().block_on(answers(&inventory_db));
    assert_eq!(answers.len(), ORDERS, "every order answered: {answers:?}");
    for (order, answer) in &answers {
        let reserved = !REFUSED.contains(&order.as_str());
        assert_eq!(answer, &[reserved], "{order}: answered once");
    }

    // The order service settled each order by the answer.
    runtime().block_on(async {
        let store = SqliteEventStore::connect(&orders_db.display().to_string())
            .await
            .expect("open the orders' store");
        let orders: Repository<Order, _> = Repository::new(store);
        for n in 0..ORDERS {
            let id = OrderId(format!("order-{n}"));
            let status = orders.load(&id).await.expect("load").state().status.clone();
            if REFUSED.contains(&id.0.as_str()) {
                assert!(
                    matches!(status, OrderStatus::Cancelled { .. }),
                    "{id}: {status:?}"
                );
            } else {
                assert_eq!(status, OrderStatus::Confirmed, "{id}");
            }
        }
    });
}
