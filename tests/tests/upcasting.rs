//! Events stored under an older schema load through the `upcast_from` chain.

use aggregato::prelude::*;
use aggregato::store::CorruptionReason;
use aggregato::{DecodeError, NewEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Version 1: an amount in whole units.
#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Credited", version = 1)]
pub struct CreditedV1 {
    pub units: u64,
}

/// Version 2: the amount in cents.
#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Credited", version = 2, upcast_from = CreditedV1)]
pub struct CreditedV2 {
    pub cents: u64,
}

impl From<CreditedV1> for CreditedV2 {
    fn from(old: CreditedV1) -> Self {
        Self {
            cents: old.units * 100,
        }
    }
}

/// Version 3, current: cents and a currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "Credited", version = 3, upcast_from = CreditedV2)]
pub struct Credited {
    pub cents: u64,
    pub currency: String,
}

impl From<CreditedV2> for Credited {
    fn from(old: CreditedV2) -> Self {
        Self {
            cents: old.cents,
            currency: "EUR".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Wallet)]
pub struct Credit {
    pub cents: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(Credited), commands(Credit))]
pub struct Wallet {
    pub credits: Vec<(u64, String)>,
}

impl Handle<Credit> for Wallet {
    async fn handle(
        &self,
        command: Credit,
        _: &(),
    ) -> Result<Vec<WalletEvent>, std::convert::Infallible> {
        Ok(vec![
            Credited {
                cents: command.cents,
                currency: "USD".to_owned(),
            }
            .into(),
        ])
    }
}

impl Apply<Credited> for Wallet {
    fn apply(&mut self, event: &Credited) {
        self.credits.push((event.cents, event.currency.clone()));
    }
}

fn stored(version: u32, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        aggregate_type: "Wallet".to_owned(),
        event_type: "Credited".to_owned(),
        event_version: version,
        metadata: Metadata::new(),
        payload: payload.into(),
    }
}

/// A SQLite store in a temporary directory: it hands payloads to the repository as JSON text,
/// the JSON-text form of `StoredPayload`, from the in-memory store's values.
async fn sqlite_store() -> (aggregato::SqliteEventStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    let store = aggregato::SqliteEventStore::connect(&url)
        .await
        .expect("open SQLite store");
    (store, dir)
}

#[tokio::test]
async fn every_stored_version_loads_as_the_current_schema() {
    every_stored_version_loads_on(InMemoryEventStore::new()).await;
}

#[tokio::test]
async fn every_stored_version_loads_as_the_current_schema_from_json_text() {
    let (store, _dir) = sqlite_store().await;
    every_stored_version_loads_on(store).await;
}

async fn every_stored_version_loads_on(store: impl EventStore) {
    let history = vec![
        stored(1, json!({ "units": 3 })),
        stored(2, json!({ "cents": 450 })),
        stored(3, json!({ "cents": 7, "currency": "GBP" })),
    ];
    store
        .append("Wallet-w1", ExpectedVersion::NoStream, history)
        .await
        .expect("plant");
    let repo = Repository::<Wallet, _>::new(store);
    let committed = repo
        .execute(&"w1".to_owned(), Credit { cents: 1 })
        .await
        .expect("credit");
    assert_eq!(committed[0].version, 4);
    assert_eq!(
        committed[0].event_version, 3,
        "new events are written at the current version"
    );
    let wallet = repo.load(&"w1".to_owned()).await.expect("load");
    assert_eq!(
        wallet.state().credits,
        [
            (300, "EUR".to_owned()),
            (450, "EUR".to_owned()),
            (7, "GBP".to_owned()),
            (1, "USD".to_owned()),
        ]
    );
}

#[tokio::test]
async fn versions_outside_the_chain_are_typed_errors() {
    for version in [0, 4] {
        versions_outside_the_chain_fail_on(InMemoryEventStore::new(), version).await;
        let (store, _dir) = sqlite_store().await;
        versions_outside_the_chain_fail_on(store, version).await;
    }
}

async fn versions_outside_the_chain_fail_on(store: impl EventStore, version: u32) {
    {
        store
            .append(
                "Wallet-w2",
                ExpectedVersion::NoStream,
                vec![stored(version, json!({ "cents": 1 }))],
            )
            .await
            .expect("plant");
        let error = Repository::<Wallet, _>::new(store)
            .load(&"w2".to_owned())
            .await
            .expect_err("unreadable");
        assert!(
            matches!(
                &error,
                RepositoryError::Store(StoreError::Corrupt {
                    version: 1,
                    reason: CorruptionReason::Decode(DecodeError::UnsupportedVersion { stored, known: 3, .. }),
                    ..
                }) if *stored == version
            ),
            "{error:?}"
        );
    }
}

#[test]
fn an_old_payload_that_does_not_fit_its_schema_names_the_event() {
    let error = Credited::decode_stored(1, &json!({ "units": "three" })).expect_err("bad payload");
    assert!(
        matches!(&error, DecodeError::Payload { event_type, .. } if event_type == "Credited"),
        "{error:?}"
    );
}

/// A fixture given payloads stored under each older schema reads them through the chain, as a
/// load does, and decides on the upcast state.
#[tokio::test]
async fn a_fixture_given_stored_payloads_of_older_versions_upcasts_them() {
    let state = AggregateFixture::<Wallet>::new()
        .given_stored("Credited", 1, json!({ "units": 2 }))
        .given_stored("Credited", 2, json!({ "cents": 150 }))
        .given_stored("Credited", 3, json!({ "cents": 7, "currency": "CHF" }))
        .when(Credit { cents: 1 })
        .then_events([Credited {
            cents: 1,
            currency: "USD".to_owned(),
        }])
        .await;
    assert_eq!(
        state.credits,
        [
            (200, "EUR".to_owned()),
            (150, "EUR".to_owned()),
            (7, "CHF".to_owned()),
            (1, "USD".to_owned())
        ]
    );
}

#[tokio::test]
#[should_panic(expected = "the stored `Credited` v1 event {\"cents\":2} does not decode")]
async fn a_fixture_given_a_stored_payload_that_does_not_decode_fails() {
    AggregateFixture::<Wallet>::new().given_stored("Credited", 1, json!({ "cents": 2 }));
}

/// A renamed event reads under its former stored names.
mod renamed {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    /// Stored as `Credited`, then `Deposited`, now `FundsAdded`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    #[event(name = "FundsAdded", aliases("Credited", "Deposited"))]
    pub struct FundsAdded {
        pub cents: u64,
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Purse)]
    pub struct AddFunds {
        pub cents: u64,
    }

    #[derive(Debug, Default, Aggregate)]
    #[aggregate(id = String, events(FundsAdded), commands(AddFunds))]
    pub struct Purse {
        pub cents: u64,
    }

    impl Handle<AddFunds> for Purse {
        async fn handle(
            &self,
            command: AddFunds,
            _: &(),
        ) -> Result<Vec<PurseEvent>, std::convert::Infallible> {
            Ok(vec![
                FundsAdded {
                    cents: command.cents,
                }
                .into(),
            ])
        }
    }

    impl Apply<FundsAdded> for Purse {
        fn apply(&mut self, event: &FundsAdded) {
            self.cents += event.cents;
        }
    }

    #[tokio::test]
    async fn events_stored_under_former_names_load_and_new_ones_take_the_new_name() {
        let store = InMemoryEventStore::new();
        for (name, cents) in [("Credited", 1), ("Deposited", 10)] {
            let event = aggregato::NewEvent {
                event_id: uuid::Uuid::now_v7(),
                aggregate_type: "Purse".to_owned(),
                event_type: name.to_owned(),
                event_version: 1,
                metadata: Metadata::default(),
                payload: json!({ "cents": cents }).into(),
            };
            store
                .append("Purse-p", ExpectedVersion::Any, vec![event])
                .await
                .expect("append under a former name");
        }
        let purses = Repository::<Purse, _>::new(store);
        let added = purses
            .execute(&"p".to_owned(), AddFunds { cents: 100 })
            .await
            .expect("decides on the state the old names built");
        assert_eq!(added[0].event_type, "FundsAdded");
        let purse = purses.load(&"p".to_owned()).await.expect("load");
        assert_eq!(purse.state().cents, 111);
        assert!(matches!(
            PurseEvent::decode("Charged", 1, &json!({ "cents": 1 })),
            Err(aggregato::DecodeError::UnknownEventType { .. })
        ));
    }
}
