//! The catalogue binary runs to completion and tells the story it should: generated
//! lifecycle events, patches holding only what changed, validation and lifecycle refusals,
//! and the hand-written command beside the generated ones.

use std::process::Command;

#[test]
fn the_catalogue_example_prints_each_event_and_refusal() {
    let output = Command::new(env!("CARGO_BIN_EXE_catalogue"))
        .output()
        .expect("run the catalogue example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}",
        output.status
    );
    let expected = [
        r#"+ v1 #1 ProductCreated {"id":"mug","name":"Enamel mug","price_cents":1200,"sku":"MUG-01"}"#,
        "! rejected: the entity already exists",
        r#"+ v2 #2 ProductUpdated {"price_cents":990}"#,
        "= nothing changed",
        "! rejected: a price must be positive",
        "+ v3 #3 ProductDiscontinued null",
        "! rejected: the product is already discontinued",
        "! rejected: a sample costs at most 500 cents, not 2000",
        "! rejected: the entity does not exist",
        "! rejected: `ada.example.com` is not an email address",
        "+ v1 #4 Shop.CustomerCreated",
        r#"+ v2 #5 Shop.CustomerUpdated {"name":"Ada Lovelace"}"#,
        "+ v3 #6 Shop.CustomerDeleted null",
        "! rejected: the entity was deleted",
        "mug: version 3, Live(Product",
        "price_cents: 990, sku: \"MUG-01\", discontinued: true",
        "ada: version 3, Deleted(Customer",
    ];
    // In this order: each line is looked for after the previous one.
    let mut rest = stdout.as_ref();
    for line in expected {
        let Some(at) = rest.find(line) else {
            panic!("missing {line:?} (in order) in:\n{stdout}");
        };
        rest = &rest[at + line.len()..];
    }
}
