//! `#[derive(Entity)]` through the public API: the lifecycle rules of the generated handler,
//! patch semantics, validation, added commands and events, stored names, and a repository
//! round trip.

use aggregato::DecodeError;
use aggregato::entity::{EntityError, EntityState};
use aggregato::prelude::*;
use serde_json::json;

// The catalogue example's domain: a product with field and struct validators, a readonly and a
// skipped field, and an added command and event.
use aggregato_examples::catalogue::{
    CatalogueError, CreateProduct, DeleteProduct, DiscontinueProduct, Product, ProductCreated,
    ProductDeleted, ProductDiscontinued, ProductEvent, ProductId, ProductUpdated,
    SAMPLE_PRICE_CAP_CENTS, UpdateProduct,
};

fn pid(id: &str) -> ProductId {
    ProductId(id.to_owned())
}

type Fixture = AggregateFixture<EntityState<Product>>;

fn mug_created() -> ProductCreated {
    ProductCreated {
        id: pid("p1"),
        name: "Mug".to_owned(),
        price_cents: 900,
        sku: "MUG-1".to_owned(),
    }
}

fn create_mug() -> CreateProduct {
    CreateProduct {
        id: pid("p1"),
        name: "Mug".to_owned(),
        price_cents: 900,
        sku: "MUG-1".to_owned(),
    }
}

fn mug() -> Product {
    Product {
        id: pid("p1"),
        name: "Mug".to_owned(),
        price_cents: 900,
        sku: "MUG-1".to_owned(),
        discontinued: false,
    }
}

// ---- lifecycle rules ----

#[tokio::test]
async fn a_create_records_every_stored_field() {
    let state = Fixture::new()
        .when(create_mug())
        .then_events([mug_created()])
        .await;
    assert_eq!(state, EntityState::Live(mug()));
}

#[tokio::test]
async fn creating_what_exists_is_already_exists() {
    Fixture::new()
        .given([mug_created()])
        .when(create_mug())
        .then_error(EntityError::AlreadyExists)
        .await;
}

#[tokio::test]
async fn creating_what_was_deleted_is_deleted() {
    Fixture::new()
        .given::<ProductEvent>([mug_created().into(), ProductDeleted.into()])
        .when(create_mug())
        .then_error(EntityError::Deleted)
        .await;
}

#[tokio::test]
async fn updating_or_deleting_what_does_not_exist_is_not_found() {
    Fixture::new()
        .when(UpdateProduct {
            name: Some("Cup".to_owned()),
            price_cents: None,
        })
        .then_error(EntityError::NotFound)
        .await;
    Fixture::new()
        .when(DeleteProduct)
        .then_error(EntityError::NotFound)
        .await;
}

#[tokio::test]
async fn updating_or_deleting_what_was_deleted_is_deleted() {
    let deleted =
        || Fixture::new().given::<ProductEvent>([mug_created().into(), ProductDeleted.into()]);
    deleted()
        .when(UpdateProduct {
            name: Some("Cup".to_owned()),
            price_cents: None,
        })
        .then_error(EntityError::Deleted)
        .await;
    deleted()
        .when(DeleteProduct)
        .then_error(EntityError::Deleted)
        .await;
}

#[tokio::test]
async fn a_delete_keeps_the_last_state() {
    let state = Fixture::new()
        .given([mug_created()])
        .when(DeleteProduct)
        .then_events([ProductDeleted])
        .await;
    assert_eq!(state, EntityState::Deleted(mug()));
    assert_eq!(state.get(), None);
}

// ---- patch semantics ----

#[tokio::test]
async fn an_update_records_only_the_fields_that_change() {
    let state = Fixture::new()
        .given([mug_created()])
        .when(UpdateProduct {
            name: Some("Mug".to_owned()),
            price_cents: Some(1200),
        })
        .then_events([ProductUpdated {
            name: None,
            price_cents: Some(1200),
        }])
        .await;
    let product = state.get().expect("live");
    assert_eq!((product.name.as_str(), product.price_cents), ("Mug", 1200));
}

#[tokio::test]
async fn an_update_that_changes_nothing_records_nothing() {
    let unchanged = Fixture::new()
        .given([mug_created()])
        .when(UpdateProduct {
            name: Some("Mug".to_owned()),
            price_cents: Some(900),
        })
        .then_no_events()
        .await;
    assert_eq!(unchanged, EntityState::Live(mug()));
    Fixture::new()
        .given([mug_created()])
        .when(UpdateProduct::default())
        .then_no_events()
        .await;
}

#[test]
fn the_patch_holds_only_updatable_fields() {
    // Exhaustive patterns: these stop compiling if the id, the readonly `sku` or the skipped
    // `discontinued` ever joins the patch.
    let UpdateProduct {
        name: _,
        price_cents: _,
    } = UpdateProduct::default();
    let ProductUpdated {
        name: _,
        price_cents: _,
    } = ProductUpdated::default();
    let patch = UpdateProduct {
        name: Some("Cup".to_owned()),
        price_cents: None,
    };
    assert_eq!(
        serde_json::to_value(&patch).expect("serializes"),
        json!({ "name": "Cup" })
    );
}

#[test]
fn a_skipped_field_is_in_no_generated_event() {
    let ProductCreated {
        id: _,
        name: _,
        price_cents: _,
        sku: _,
    } = mug_created();
    assert_eq!(
        serde_json::to_value(mug_created()).expect("serializes"),
        json!({ "id": "p1", "name": "Mug", "price_cents": 900, "sku": "MUG-1" })
    );
}

#[test]
fn a_skipped_field_is_restored_by_default_when_created_again_from_events() {
    let mut state = EntityState::<Product>::default();
    Aggregate::evolve(&mut state, &mug_created().into());
    Aggregate::evolve(&mut state, &ProductDiscontinued.into());
    assert!(state.get().expect("live").discontinued);
    // Replaying the generated events alone (as a stream without the added event would)
    // leaves the skipped field at its `Default`.
    let mut replayed = EntityState::<Product>::default();
    Aggregate::evolve(&mut replayed, &mug_created().into());
    Aggregate::evolve(
        &mut replayed,
        &ProductUpdated {
            name: Some("Cup".to_owned()),
            price_cents: None,
        }
        .into(),
    );
    let product = replayed.get().expect("live");
    assert!(!product.discontinued);
    assert_eq!(product.name, "Cup");
}

#[test]
fn an_updated_event_stores_only_the_changed_fields() {
    let event: ProductEvent = ProductUpdated {
        name: None,
        price_cents: Some(5),
    }
    .into();
    assert_eq!(
        event.encode().expect("encodes"),
        json!({ "price_cents": 5 })
    );
    let decoded =
        ProductEvent::decode("ProductUpdated", 1, &json!({ "price_cents": 5 })).expect("decodes");
    assert_eq!(decoded, event);
}

// ---- validation ----

#[tokio::test]
async fn a_field_validator_rejects_a_create_without_events() {
    Fixture::new()
        .when(CreateProduct {
            name: "  ".to_owned(),
            ..create_mug()
        })
        .then_error(EntityError::Rejected(CatalogueError::BlankName))
        .await;
    Fixture::new()
        .when(CreateProduct {
            price_cents: 0,
            ..create_mug()
        })
        .then_error(EntityError::Rejected(CatalogueError::FreeProduct))
        .await;
}

#[tokio::test]
async fn a_field_validator_rejects_an_update_without_events() {
    Fixture::new()
        .given([mug_created()])
        .when(UpdateProduct {
            name: Some("Cup".to_owned()),
            price_cents: Some(0),
        })
        .then_error(EntityError::Rejected(CatalogueError::FreeProduct))
        .await;
}

#[tokio::test]
async fn the_struct_validator_sees_the_would_be_entity() {
    Fixture::new()
        .when(CreateProduct {
            sku: "SAMPLE-1".to_owned(),
            ..create_mug()
        })
        .then_error(EntityError::Rejected(CatalogueError::ExpensiveSample {
            max_cents: SAMPLE_PRICE_CAP_CENTS,
            price_cents: 900,
        }))
        .await;
    let sample = ProductCreated {
        sku: "SAMPLE-1".to_owned(),
        price_cents: 50,
        ..mug_created()
    };
    // The patch alone says nothing about the sku: the validator sees it applied.
    Fixture::new()
        .given([sample.clone()])
        .when(UpdateProduct {
            price_cents: Some(SAMPLE_PRICE_CAP_CENTS + 1),
            ..UpdateProduct::default()
        })
        .then_error(EntityError::Rejected(CatalogueError::ExpensiveSample {
            max_cents: SAMPLE_PRICE_CAP_CENTS,
            price_cents: SAMPLE_PRICE_CAP_CENTS + 1,
        }))
        .await;
    Fixture::new()
        .given([sample])
        .when(UpdateProduct {
            price_cents: Some(80),
            ..UpdateProduct::default()
        })
        .then_events([ProductUpdated {
            name: None,
            price_cents: Some(80),
        }])
        .await;
}

// ---- added commands and events ----

#[tokio::test]
async fn an_added_command_works_beside_the_generated_ones() {
    let state = Fixture::new()
        .given([mug_created()])
        .when(DiscontinueProduct)
        .then_events([ProductDiscontinued])
        .await;
    assert!(state.get().expect("live").discontinued);
    Fixture::new()
        .given::<ProductEvent>([mug_created().into(), ProductDiscontinued.into()])
        .when(DiscontinueProduct)
        .then_error(EntityError::Rejected(CatalogueError::AlreadyDiscontinued))
        .await;
    Fixture::new()
        .when(DiscontinueProduct)
        .then_error(EntityError::NotFound)
        .await;
    // The generated handlers still run on an entity changed by an added event.
    Fixture::new()
        .given::<ProductEvent>([mug_created().into(), ProductDiscontinued.into()])
        .when(UpdateProduct {
            name: Some("Old mug".to_owned()),
            price_cents: None,
        })
        .then_events([ProductUpdated {
            name: Some("Old mug".to_owned()),
            price_cents: None,
        }])
        .await;
}

// ---- stored names ----

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(name = "Catalog.Customer", version = 2)]
pub struct Customer {
    #[entity(id)]
    email: String,
    name: String,
}

#[test]
fn generated_names_default_to_the_struct_name_at_version_1() {
    assert_eq!(ProductCreated::EVENT_TYPE, "ProductCreated");
    assert_eq!(ProductUpdated::EVENT_TYPE, "ProductUpdated");
    assert_eq!(ProductDeleted::EVENT_TYPE, "ProductDeleted");
    assert_eq!(ProductCreated::EVENT_VERSION, 1);
    assert_eq!(
        <EntityState<Product> as Aggregate>::AGGREGATE_TYPE,
        "Product"
    );
    assert_eq!(
        ProductEvent::EVENT_TYPES,
        [
            "ProductCreated",
            "ProductUpdated",
            "ProductDeleted",
            "ProductDiscontinued"
        ]
    );
    assert_eq!(CreateProduct::COMMAND_TYPE, "CreateProduct");
}

#[test]
fn name_overrides_the_stored_prefix_and_version_the_schema() {
    assert_eq!(CustomerCreated::EVENT_TYPE, "Catalog.CustomerCreated");
    assert_eq!(CustomerUpdated::EVENT_TYPE, "Catalog.CustomerUpdated");
    assert_eq!(CustomerDeleted::EVENT_TYPE, "Catalog.CustomerDeleted");
    assert_eq!(CustomerDeleted::EVENT_VERSION, 2);
    assert_eq!(
        EntityState::<Customer>::stream_id(&"ada@example.com".to_owned()),
        "Catalog.Customer-ada@example.com"
    );
    let event: CustomerEvent = CustomerDeleted.into();
    assert_eq!(event.event_type(), "Catalog.CustomerDeleted");
    assert_eq!(event.event_version(), 2);
    assert!(matches!(
        CustomerEvent::decode("CustomerDeleted", 2, &json!(null)),
        Err(DecodeError::UnknownEventType { .. })
    ));
    // A deletion carries nothing: one stored at an older version reads, a newer one does not.
    assert!(matches!(
        CustomerEvent::decode("Catalog.CustomerDeleted", 1, &json!(null)),
        Ok(CustomerEvent::CustomerDeleted(_))
    ));
    assert!(matches!(
        CustomerEvent::decode("Catalog.CustomerDeleted", 3, &json!(null)),
        Err(DecodeError::UnsupportedVersion {
            stored: 3,
            known: 2,
            ..
        })
    ));
    // Without `upcast(...)`, a Created event of an older version does not.
    assert!(matches!(
        CustomerEvent::decode("Catalog.CustomerCreated", 1, &json!({})),
        Err(DecodeError::UnsupportedVersion {
            stored: 1,
            known: 2,
            ..
        })
    ));
}

// ---- repository ----

#[tokio::test]
async fn a_repository_round_trip_on_the_in_memory_store() {
    let repository = Repository::<EntityState<Customer>, _>::new(InMemoryEventStore::new());
    let ada = "ada@example.com".to_owned();
    let created = repository
        .execute(
            &ada,
            CreateCustomer {
                email: ada.clone(),
                name: "Ada".to_owned(),
            },
        )
        .await
        .expect("created");
    assert_eq!(created[0].event_type, "Catalog.CustomerCreated");
    assert_eq!(created[0].stream_id, "Catalog.Customer-ada@example.com");

    let rename = UpdateCustomer {
        name: Some("Ada Lovelace".to_owned()),
    };
    let updated = repository
        .execute(&ada, rename.clone())
        .await
        .expect("updated");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].version, 2);
    let again = repository.execute(&ada, rename).await.expect("no-op");
    assert!(again.is_empty(), "a no-op update commits nothing");

    let loaded = repository.load(&ada).await.expect("loads");
    assert_eq!(loaded.version(), 2);
    assert_eq!(
        loaded.state(),
        &EntityState::Live(Customer {
            email: ada.clone(),
            name: "Ada Lovelace".to_owned(),
        })
    );

    repository
        .execute(&ada, DeleteCustomer)
        .await
        .expect("deleted");
    let rejected = repository
        .execute(
            &ada,
            CreateCustomer {
                email: ada.clone(),
                name: "Ada".to_owned(),
            },
        )
        .await
        .expect_err("a deleted id is not reused");
    assert_eq!(rejected.rejection(), Some(&EntityError::Deleted));

    let stored = repository
        .store()
        .read_stream("Catalog.Customer-ada@example.com", 1)
        .await
        .expect("reads");
    let kinds: Vec<(&str, u32, &serde_json::Value)> = stored
        .iter()
        .map(|e| (e.event_type.as_str(), e.event_version, &e.payload))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "Catalog.CustomerCreated",
                2,
                &json!({ "email": "ada@example.com", "name": "Ada" })
            ),
            (
                "Catalog.CustomerUpdated",
                2,
                &json!({ "name": "Ada Lovelace" })
            ),
            ("Catalog.CustomerDeleted", 2, &json!(null)),
        ]
    );
    let reloaded = repository.load(&ada).await.expect("loads");
    assert!(reloaded.state().is_deleted());
    assert_eq!(reloaded.version(), 3);
}

// ---- optional fields ----

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Note {
    #[entity(id)]
    id: u32,
    title: Option<String>,
}

#[test]
fn clearing_an_optional_field_is_not_leaving_it_unchanged() {
    let cleared: NoteEvent = NoteUpdated { title: Some(None) }.into();
    let unchanged: NoteEvent = NoteUpdated { title: None }.into();
    assert_eq!(cleared.encode().expect("encodes"), json!({ "title": null }));
    assert_eq!(unchanged.encode().expect("encodes"), json!({}));
    for event in [cleared, unchanged] {
        let decoded = NoteEvent::decode("NoteUpdated", 1, &event.encode().expect("encodes"))
            .expect("decodes");
        assert_eq!(decoded, event);
    }
    let command: UpdateNote = serde_json::from_value(json!({ "title": null })).expect("parses");
    assert_eq!(command, UpdateNote { title: Some(None) });
}

#[tokio::test]
async fn an_optional_field_cleared_stays_cleared_after_a_reload() {
    let repository = Repository::<EntityState<Note>, _>::new(InMemoryEventStore::new());
    repository
        .execute(
            &7,
            CreateNote {
                id: 7,
                title: Some("Draft".to_owned()),
            },
        )
        .await
        .expect("created");
    let cleared = repository
        .execute(&7, UpdateNote { title: Some(None) })
        .await
        .expect("cleared");
    assert_eq!(cleared.len(), 1);
    let reloaded = repository.load(&7).await.expect("loads");
    assert_eq!(
        reloaded.state(),
        &EntityState::Live(Note { id: 7, title: None })
    );
}

// ---- a create names its own stream ----

/// The stored events of `stream`.
async fn stored(
    repository: &Repository<EntityState<Product>, InMemoryEventStore>,
    stream: &str,
) -> usize {
    repository
        .store()
        .read_stream(stream, 1)
        .await
        .expect("reads")
        .len()
}

fn is_wrong_instance(error: &RepositoryError<EntityError<CatalogueError>>) -> bool {
    matches!(
        error,
        RepositoryError::WrongInstance { stream, named }
            if stream == "Product-p2" && named == "Product-p1"
    )
}

#[tokio::test]
async fn a_create_executed_on_another_id_is_refused_and_stores_nothing() {
    let repository = Repository::<EntityState<Product>, _>::new(InMemoryEventStore::new());
    let refused = repository
        .execute(&pid("p2"), create_mug())
        .await
        .expect_err("`p1` is not `p2`");
    assert!(is_wrong_instance(&refused), "{refused:?}");
    assert_eq!(
        refused.to_string(),
        "refused to store an event in stream `Product-p2`: it belongs to stream `Product-p1`; \
         execute the command on the id it names, or give it the id it is executed on"
    );
    assert_eq!(refused.rejection(), None);
    assert!(!refused.is_conflict());
    assert_eq!(stored(&repository, "Product-p2").await, 0);
    assert_eq!(stored(&repository, "Product-p1").await, 0);

    let created = repository
        .execute(&pid("p1"), create_mug())
        .await
        .expect("the id it names");
    assert_eq!(created[0].stream_id, "Product-p1");
    assert_eq!(stored(&repository, "Product-p1").await, 1);
    assert_eq!(stored(&repository, "Product-p2").await, 0);
}

#[tokio::test]
async fn a_refused_create_leaves_no_state_in_the_cache() {
    let repository =
        Repository::<EntityState<Product>, _>::new(InMemoryEventStore::new()).with_state_cache(8);
    let refused = repository
        .execute(&pid("p2"), create_mug())
        .await
        .expect_err("`p1` is not `p2`");
    assert!(is_wrong_instance(&refused), "{refused:?}");
    // Had the refused state been cached, `p2` would be live as `p1` and this an AlreadyExists.
    let created = repository
        .execute(
            &pid("p2"),
            CreateProduct {
                id: pid("p2"),
                ..create_mug()
            },
        )
        .await
        .expect("created on its own id");
    assert_eq!(created[0].stream_id, "Product-p2");
    let loaded = repository.load(&pid("p2")).await.expect("loads");
    assert_eq!(
        loaded.state().get().map(|product| &product.id),
        Some(&pid("p2"))
    );
}

#[tokio::test]
async fn saving_a_root_that_created_another_id_is_refused() {
    let repository = Repository::<EntityState<Product>, _>::new(InMemoryEventStore::new());
    let mut root = AggregateRoot::<EntityState<Product>>::new(pid("p2"));
    root.handle(create_mug().into(), &())
        .await
        .expect("the handler sees no stream");
    let refused = repository
        .save(&mut root, Metadata::default())
        .await
        .expect_err("`p1` is not `p2`");
    assert!(is_wrong_instance(&refused), "{refused:?}");
    assert_eq!(root.uncommitted().len(), 1, "nothing was committed");
    assert_eq!(root.loaded_version(), 0);
    assert_eq!(stored(&repository, "Product-p2").await, 0);
    assert_eq!(stored(&repository, "Product-p1").await, 0);

    let mut own = AggregateRoot::<EntityState<Product>>::new(pid("p1"));
    own.handle(create_mug().into(), &()).await.expect("decided");
    let saved = repository
        .save(&mut own, Metadata::default())
        .await
        .expect("the id it names");
    assert_eq!(saved[0].stream_id, "Product-p1");
}

#[tokio::test]
async fn only_the_created_event_names_an_instance() {
    type State = EntityState<Product>;
    let created: ProductEvent = mug_created().into();
    assert_eq!(State::event_instance(&created), Some(&pid("p1")));
    let others: [ProductEvent; 3] = [
        ProductUpdated::default().into(),
        ProductDeleted.into(),
        ProductDiscontinued.into(),
    ];
    for event in &others {
        assert_eq!(State::event_instance(event), None, "{event:?}");
    }
    // So the other commands run on any id, as before.
    let repository = Repository::<State, _>::new(InMemoryEventStore::new());
    repository
        .execute(&pid("p1"), create_mug())
        .await
        .expect("created");
    repository
        .execute(&pid("p1"), DeleteProduct)
        .await
        .expect("deleted");
}

/// A generated event evolves like a hand-written one: `#[entity(version = 2, upcast(...))]`
/// reads the Created and Updated events stored at version 1 through the user's old types, and
/// a Deleted event of any version up to the entity's.
mod evolved {
    use aggregato::DecodeError;
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    /// Version 2: prices in cents (version 1 stored whole units as `price`).
    #[derive(Debug, Clone, PartialEq, Entity)]
    #[entity(version = 2, upcast(created = GadgetCreatedV1, updated = GadgetUpdatedV1))]
    pub struct Gadget {
        #[entity(id)]
        pub id: String,
        pub name: String,
        pub price_cents: u64,
    }

    #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
    #[event(name = "GadgetCreated", version = 1)]
    pub struct GadgetCreatedV1 {
        pub id: String,
        pub name: String,
        pub price: u64,
    }

    impl From<GadgetCreatedV1> for GadgetCreated {
        fn from(old: GadgetCreatedV1) -> Self {
            Self {
                id: old.id,
                name: old.name,
                price_cents: old.price * 100,
            }
        }
    }

    #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
    #[event(name = "GadgetUpdated", version = 1)]
    pub struct GadgetUpdatedV1 {
        pub name: Option<String>,
        pub price: Option<u64>,
    }

    impl From<GadgetUpdatedV1> for GadgetUpdated {
        fn from(old: GadgetUpdatedV1) -> Self {
            Self {
                name: old.name,
                price_cents: old.price.map(|price| price * 100),
            }
        }
    }

    #[tokio::test]
    async fn events_stored_at_the_old_version_are_read_through_the_users_old_types() {
        let state = AggregateFixture::<EntityState<Gadget>>::new()
            .given_stored(
                "GadgetCreated",
                1,
                json!({ "id": "g1", "name": "Lamp", "price": 2 }),
            )
            .given_stored("GadgetUpdated", 1, json!({ "price": 3 }))
            .when(UpdateGadget {
                name: Some("Desk lamp".to_owned()),
                price_cents: None,
            })
            .then_events([GadgetUpdated {
                name: Some("Desk lamp".to_owned()),
                price_cents: None,
            }])
            .await;
        let gadget = state.get().expect("live");
        assert_eq!(
            (gadget.name.as_str(), gadget.price_cents),
            ("Desk lamp", 300)
        );
    }

    #[test]
    fn a_deletion_of_any_version_up_to_the_current_one_reads() {
        for version in [1, 2] {
            let decoded = GadgetEvent::decode("GadgetDeleted", version, &json!(null));
            assert!(
                matches!(decoded, Ok(GadgetEvent::GadgetDeleted(_))),
                "v{version}: {decoded:?}"
            );
        }
        let newer = GadgetEvent::decode("GadgetDeleted", 3, &json!(null));
        assert!(
            matches!(
                newer,
                Err(DecodeError::UnsupportedVersion { stored: 3, .. })
            ),
            "{newer:?}"
        );
        let too_new = GadgetEvent::decode("GadgetCreated", 3, &json!({}));
        assert!(
            matches!(
                too_new,
                Err(DecodeError::UnsupportedVersion {
                    stored: 3,
                    known: 2,
                    ..
                })
            ),
            "{too_new:?}"
        );
    }
}
