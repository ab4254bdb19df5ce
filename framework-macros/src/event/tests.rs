//! Expansion snapshots of `#[derive(DomainEvent)]`.

use quote::quote;

use crate::snapshot::pretty;

#[test]
fn defaults() {
    let expansion = super::expand(quote! {
        #[derive(Serialize, Deserialize, DomainEvent)]
        pub struct MoneyDeposited {
            pub amount: u64,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn overrides() {
    let expansion = super::expand(quote! {
        #[derive(Serialize, Deserialize, DomainEvent)]
        #[event(name = "Deposited", version = 2, aliases("Credited", "Paid"), crate = ::renamed)]
        pub enum Deposit {
            Cash { amount: u64 },
            Cheque(String),
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn a_route() {
    let expansion = super::expand(quote! {
        #[derive(Serialize, Deserialize, DomainEvent)]
        #[event(route = "payments.settled-v2_eu")]
        pub struct PaymentSettled {
            pub cents: u64,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn generic() {
    let expansion = super::expand(quote! {
        #[derive(Serialize, Deserialize, DomainEvent)]
        pub struct Recorded<T> where T: Clone {
            pub value: T,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn upcast_from_an_older_schema() {
    let expansion = super::expand(quote! {
        #[derive(Serialize, Deserialize, DomainEvent)]
        #[event(name = "MoneyDeposited", version = 2, upcast_from = legacy::MoneyDepositedV1)]
        pub struct MoneyDeposited {
            pub amount: u64,
            pub currency: String,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn upcast_from_a_generic_type() {
    let expansion = super::expand(quote! {
        #[derive(Serialize, Deserialize, DomainEvent)]
        #[event(name = "Credited", version = 2, upcast_from = legacy::Credited<u32>)]
        pub struct Credited {
            pub cents: u64,
        }
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}
