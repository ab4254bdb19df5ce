//! Expansion snapshots of `#[derive(Projection)]`.

use quote::quote;

use crate::snapshot::pretty;

#[test]
fn minimal() {
    let expansion = super::expand(quote! {
        #[derive(Default, Projection)]
        #[projection(events(AccountOpened))]
        struct Accounts {
            count: u64,
        }
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}

#[test]
fn all_options() {
    let expansion = super::expand(quote! {
        #[derive(Default, Projection)]
        #[projection(
            events(AccountOpened, bank::MoneyDeposited),
            aggregates(BankAccount, ledger::Ledger),
            transaction = sqlx::PgConnection,
            error = ReadModelError,
            name = "balances",
            version = 2,
            dead_letter,
            reset = truncate,
            activate = swap_view,
            crate = ::aggregato,
        )]
        pub struct Balances {
            total: u64,
        }
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}

#[test]
fn generic_is_an_error() {
    let expansion = super::expand(quote! {
        #[derive(Projection)]
        #[projection(events(AccountOpened))]
        struct Balances<S> {
            store: S,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn every_mistake_at_once() {
    let expansion = super::expand(quote! {
        #[derive(Projection)]
        #[projection(
            events(Opened, Opened, "Deposited"),
            aggregates(),
            name = "",
            version = 0,
            dead_letter = true,
            reset = reset,
            transaction = Vec<,
        )]
        struct Balances {
            total: u64,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn an_unknown_key_beside_stand_ins() {
    let expansion = super::expand(quote! {
        #[derive(Projection)]
        #[projection(events(Opened), verison = 2)]
        pub struct Balances;
    });
    let pretty = pretty(expansion);
    assert!(pretty.contains("Did you mean `version`?"), "{pretty}");
    insta::assert_snapshot!(pretty);
}

#[test]
fn values_of_the_wrong_kind_say_what_to_write() {
    let expansion = super::expand(quote! {
        #[derive(Projection)]
        #[projection(events(Opened), name = balances, version = "2")]
        pub struct Balances;
    });
    let pretty = pretty(expansion);
    assert!(
        pretty.contains(r#"`name` takes a string: write `name = \"balances\"`"#),
        "{pretty}"
    );
    assert!(
        pretty.contains("`version` takes a whole number, unquoted"),
        "{pretty}"
    );
}
