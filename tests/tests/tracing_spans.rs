//! The spans a subscriber sees: one `command` span per command with its aggregate type,
//! stream, name, ids and versions, an `append` span inside it, and a `saga_step` span per step
//! a saga runs, each with the correlation id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aggregato::prelude::*;
use aggregato::saga::SagaExecutor;
use aggregato_examples::bank::*;
use aggregato_examples::order_saga::*;
use aggregato_examples::shop::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use uuid::Uuid;

/// One span as the subscriber saw it: its name, fields and parent span's name.
#[derive(Debug, Clone, Default)]
struct SeenSpan {
    name: &'static str,
    parent: Option<&'static str>,
    fields: BTreeMap<String, String>,
}

/// Records every span and the fields recorded on it later.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(u64, SeenSpan)>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut seen = SeenSpan {
            name: attrs.metadata().name(),
            parent: ctx
                .span(id)
                .and_then(|span| span.parent().map(|parent| parent.name())),
            ..SeenSpan::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        self.0.lock().expect("spans").push((id.into_u64(), seen));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().expect("spans");
        if let Some((_, seen)) = spans
            .iter_mut()
            .rev()
            .find(|(key, _)| *key == id.into_u64())
        {
            values.record(&mut Fields(&mut seen.fields));
        }
    }
}

impl Recorder {
    fn named(&self, name: &str) -> Vec<SeenSpan> {
        let spans = self.0.lock().expect("spans");
        spans
            .iter()
            .filter(|(_, seen)| seen.name == name)
            .map(|(_, seen)| seen.clone())
            .collect()
    }
}

fn capture() -> (Recorder, tracing::subscriber::DefaultGuard) {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    (recorder, tracing::subscriber::set_default(subscriber))
}

#[tokio::test(flavor = "current_thread")]
async fn a_command_span_holds_what_the_command_did_and_its_append_inside() {
    let store = InMemoryEventStore::new();
    let accounts: Repository<BankAccount, _> =
        Repository::new_with_services(store, BankServices::default());
    let id = AccountId("traced".to_owned());
    let open = OpenAccount {
        account_id: id.clone(),
        owner: "tess".to_owned(),
    };
    accounts.execute(&id, open).await.expect("open");
    let (recorder, _guard) = capture();
    let correlation = Uuid::now_v7();
    let committed = accounts
        .execute_with_metadata(
            &id,
            DepositMoney { amount: 4 },
            Metadata::new().with_correlation_id(correlation),
        )
        .await
        .expect("deposit");
    let refused = accounts.execute(&id, WithdrawMoney { amount: 100 }).await;
    assert!(refused.is_err());

    let commands = recorder.named("command");
    assert_eq!(commands.len(), 2, "{commands:?}");
    let deposit = &commands[0].fields;
    let expected = [
        ("aggregate_type", "BankAccount".to_owned()),
        ("stream_id", "BankAccount-traced".to_owned()),
        ("command", "DepositMoney".to_owned()),
        ("correlation_id", correlation.to_string()),
        (
            "command_id",
            committed[0]
                .metadata
                .causation_id
                .expect("a command id")
                .to_string(),
        ),
        ("expected_version", "1".to_owned()),
        ("committed_version", "2".to_owned()),
        ("outcome", "committed".to_owned()),
    ];
    for (field, value) in expected {
        assert_eq!(
            deposit.get(field),
            Some(&value),
            "field {field} of {deposit:?}"
        );
    }
    let withdraw = &commands[1].fields;
    assert_eq!(
        withdraw.get("command").map(String::as_str),
        Some("WithdrawMoney")
    );
    assert_eq!(
        withdraw.get("outcome").map(String::as_str),
        Some("rejected")
    );
    assert_eq!(withdraw.get("committed_version"), None);

    let appends = recorder.named("append");
    assert_eq!(
        appends.len(),
        1,
        "a rejected command appends nothing: {appends:?}"
    );
    assert_eq!(
        appends[0].parent,
        Some("command"),
        "the append is inside the command"
    );
    assert_eq!(
        appends[0]
            .fields
            .get("committed_version")
            .map(String::as_str),
        Some("2")
    );
    assert_eq!(
        appends[0].fields.get("events").map(String::as_str),
        Some("1")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn each_saga_step_runs_in_a_span_with_the_saga_correlation() {
    let store: SharedStore = Arc::new(InMemoryEventStore::new());
    let services = ShopServices::new(Arc::clone(&store));
    services
        .inventory
        .execute(&Sku(DEMO_SKU.to_owned()), Restock { quantity: 10 })
        .await
        .expect("stock");
    let executor = SagaExecutor::new(Arc::clone(&store), services);
    let (recorder, _guard) = capture();
    let correlation = Uuid::now_v7();
    executor
        .start_correlated("order-1", demo_order(1), correlation)
        .await
        .expect("run");
    let steps = recorder.named("saga_step");
    let names: Vec<_> = steps
        .iter()
        .filter_map(|step| step.fields.get("step").map(String::as_str))
        .collect();
    assert_eq!(names, ["reserve_stock", "charge_payment", "ship"]);
    for step in &steps {
        assert_eq!(
            step.fields.get("correlation_id"),
            Some(&correlation.to_string())
        );
        assert_eq!(step.fields.get("outcome").map(String::as_str), Some("done"));
        assert_eq!(
            step.fields.get("saga_type").map(String::as_str),
            Some("PlaceOrder")
        );
    }
    let commands = recorder.named("command");
    assert_eq!(commands.len(), 3, "one command per step");
    for command in &commands {
        assert_eq!(
            command.parent,
            Some("saga_step"),
            "sent from inside its step"
        );
        assert_eq!(
            command.fields.get("correlation_id"),
            Some(&correlation.to_string())
        );
    }
}
