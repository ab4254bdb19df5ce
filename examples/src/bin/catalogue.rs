//! Runs the catalogue: creates, updates, discontinues and deletes products and customers, and
//! prints every committed event and every refusal.
//!
//! `cargo run -p aggregato-examples --bin catalogue` runs on a SQLite file in a temporary
//! directory; the store options of `aggregato_examples::store` (`--sqlite PATH`,
//! `--postgres URL`, `AGGREGATO_DATABASE_URL`) choose another.

use std::fmt::Debug;
use std::sync::Arc;

use aggregato::prelude::*;
use aggregato::store::EventStore;
use aggregato_examples::catalogue::*;
use aggregato_examples::store::StoreChoice;

/// Executes `command` on `id` and prints what happened; exits on a store failure.
async fn run<A, S>(repository: &Repository<A, S>, id: &A::Id, command: impl Into<A::Command>)
where
    A: Aggregate,
    S: EventStore,
    A::Command: Debug,
{
    let command = command.into();
    println!("> {id}: {command:?}");
    match repository.execute(id, command).await {
        Ok(committed) if committed.is_empty() => println!("  = nothing changed"),
        Ok(committed) => {
            for envelope in committed {
                println!(
                    "  + v{} #{} {} {}",
                    envelope.version,
                    envelope.position,
                    envelope.event_type,
                    envelope.payload.encode().unwrap_or_default()
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

#[tokio::main]
async fn main() {
    let opened = match StoreChoice::from_env() {
        Ok(choice) => choice.open().await,
        Err(usage) => Err(usage.into()),
    };
    let opened = opened.unwrap_or_else(|error| {
        eprintln!("catalogue: {error}");
        std::process::exit(2);
    });
    println!("store: {}", opened.description);
    // One store for both entity types; their streams are told apart by the type prefix.
    let store = Arc::clone(&opened.store);
    let products = Repository::<EntityState<Product>, _>::new(Arc::clone(&store));
    let customers = Repository::<EntityState<Customer>, _>::new(store);

    let mug = ProductId("mug".to_owned());
    let sample = ProductId("tea-sample".to_owned());
    let create_mug = CreateProduct {
        id: mug.clone(),
        name: "Enamel mug".to_owned(),
        price_cents: 1_200,
        sku: "MUG-01".to_owned(),
    };
    run(&products, &mug, create_mug.clone()).await;
    run(&products, &mug, create_mug).await;
    run(
        &products,
        &mug,
        UpdateProduct {
            name: Some("Enamel mug".to_owned()),
            price_cents: Some(990),
        },
    )
    .await;
    run(
        &products,
        &mug,
        UpdateProduct {
            name: Some("Enamel mug".to_owned()),
            ..UpdateProduct::default()
        },
    )
    .await;
    run(
        &products,
        &mug,
        UpdateProduct {
            price_cents: Some(0),
            ..UpdateProduct::default()
        },
    )
    .await;
    run(&products, &mug, DiscontinueProduct).await;
    run(&products, &mug, DiscontinueProduct).await;
    run(
        &products,
        &sample,
        CreateProduct {
            id: sample.clone(),
            name: "Tea sampler".to_owned(),
            price_cents: 2_000,
            sku: "SAMPLE-TEA".to_owned(),
        },
    )
    .await;
    run(&products, &sample, DeleteProduct).await;

    let ada = CustomerId("ada".to_owned());
    run(
        &customers,
        &ada,
        CreateCustomer {
            id: ada.clone(),
            name: "Ada".to_owned(),
            email: "ada.example.com".to_owned(),
        },
    )
    .await;
    run(
        &customers,
        &ada,
        CreateCustomer {
            id: ada.clone(),
            name: "Ada".to_owned(),
            email: "ada@example.com".to_owned(),
        },
    )
    .await;
    run(
        &customers,
        &ada,
        UpdateCustomer {
            name: Some("Ada Lovelace".to_owned()),
            email: None,
        },
    )
    .await;
    run(&customers, &ada, DeleteCustomer).await;
    run(
        &customers,
        &ada,
        UpdateCustomer {
            name: Some("Countess of Lovelace".to_owned()),
            email: None,
        },
    )
    .await;

    match products.load(&mug).await {
        Ok(loaded) => println!("{mug}: version {}, {:?}", loaded.version(), loaded.state()),
        Err(error) => eprintln!("{mug}: cannot load: {error}"),
    }
    match customers.load(&ada).await {
        Ok(loaded) => println!("{ada}: version {}, {:?}", loaded.version(), loaded.state()),
        Err(error) => eprintln!("{ada}: cannot load: {error}"),
    }
}
