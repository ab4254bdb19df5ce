//! Expansion snapshots of `#[derive(Command)]`.

use quote::quote;

use crate::snapshot::pretty;

#[test]
fn command() {
    let expansion = super::expand(quote! {
        #[derive(Clone, Debug, Command)]
        #[command(aggregate = bank::BankAccount)]
        pub struct DepositMoney {
            pub amount: u64,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn overrides() {
    let expansion = super::expand(quote! {
        #[derive(Clone, Debug, Command)]
        #[command(aggregate = BankAccount, name = "bank.deposit", crate = renamed)]
        pub struct DepositMoney;
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn a_generic_aggregate_type() {
    let expansion = super::expand(quote! {
        #[derive(Clone, Debug, Command)]
        #[command(aggregate = EntityState<Product>)]
        pub struct Reprice;
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}
