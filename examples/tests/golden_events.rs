//! The examples' stored history stays readable: one golden payload per event type and schema
//! version, in `tests/golden/`, decoded by the current code on every run. Written on the first
//! run (then reviewed and committed); under CI a missing file fails.

use aggregato::testing::GoldenEvents;
use aggregato_examples::bank::*;
use aggregato_examples::catalogue::*;

fn golden(aggregate: &str) -> GoldenEvents {
    GoldenEvents::new(format!(
        "{}/tests/golden/{aggregate}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

#[test]
fn bank_account_events_stored_so_far_still_decode() -> Result<(), Box<dyn std::error::Error>> {
    let samples: [BankAccountEvent; 4] = [
        AccountOpened {
            account_id: AccountId("acc-1".to_owned()),
            owner: "ada".to_owned(),
        }
        .into(),
        MoneyDeposited {
            amount: 1_000,
            balance: 1_000,
        }
        .into(),
        MoneyWithdrawn {
            amount: 250,
            balance: 750,
        }
        .into(),
        AccountClosed.into(),
    ];
    let report = golden("bank_account").check(samples)?;
    assert_eq!(report.checked, 4);
    Ok(())
}

#[test]
fn product_events_stored_so_far_still_decode() -> Result<(), Box<dyn std::error::Error>> {
    let samples: [ProductEvent; 4] = [
        ProductCreated {
            id: ProductId("mug".to_owned()),
            name: "Mug".to_owned(),
            price_cents: 900,
            sku: "MUG-1".to_owned(),
        }
        .into(),
        ProductUpdated {
            name: None,
            price_cents: Some(1_200),
        }
        .into(),
        ProductDeleted.into(),
        ProductDiscontinued.into(),
    ];
    let report = golden("product").check(samples)?;
    assert_eq!(report.checked, 4);
    Ok(())
}
