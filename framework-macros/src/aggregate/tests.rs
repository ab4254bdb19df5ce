//! Expansion snapshots of `#[derive(Aggregate)]`.

use quote::quote;

use crate::snapshot::pretty;

#[test]
fn all_options() {
    let expansion = super::expand(quote! {
        #[derive(Debug, Default, Aggregate)]
        #[aggregate(
            id = AccountId,
            error = BankError,
            services = RiskServices,
            name = "BankAccount",
            snapshot_version = 2,
            events(AccountOpened, MoneyDeposited, MoneyWithdrawn),
            commands(OpenAccount, DepositMoney, WithdrawMoney),
            event_enum = BankAccountEvent,
            command_enum = BankAccountCommand,
            crate = ::aggregato,
        )]
        pub struct BankAccount {
            balance: u64,
            open: bool,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn initial_state_from_a_function() {
    let expansion = super::expand(quote! {
        #[derive(Aggregate)]
        #[aggregate(id = u64, initial = Echo::silent, events(Pinged), commands(Ping))]
        struct Echo {
            volume: u8,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn minimal() {
    let expansion = super::expand(quote! {
        #[derive(Default, Aggregate)]
        #[aggregate(id = u64, events(Pinged), commands(Ping))]
        struct Echo;
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn every_mistake_at_once() {
    let expansion = super::expand(quote! {
        #[derive(Default, Aggregate)]
        #[aggregate(name = "", events(Opened, Opened), commands())]
        struct Account<T> {
            state: T,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn stand_ins_beside_errors() {
    let expansion = super::expand(quote! {
        #[derive(Default, Aggregate)]
        #[aggregate(error = BankError, events(Opened, "Deposited", Opened), commands(Open))]
        pub struct Account {
            balance: u64,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn generic_types_in_every_type_key() {
    let expansion = super::expand(quote! {
        #[derive(Debug, Default, Aggregate)]
        #[aggregate(
            id = Arc<str>,
            error = Rejected<(u8, String)>,
            services = Arc<dyn Clock + Send + Sync>,
            events(Ticked),
            commands(Tick),
        )]
        pub struct Timer {
            last: u64,
        }
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}

#[test]
fn a_type_key_with_what_is_not_a_type() {
    let expansion = super::expand(quote! {
        #[derive(Debug, Default, Aggregate)]
        #[aggregate(id = u64, services = Arc<dyn>, events(Ticked), commands(Tick))]
        pub struct Timer;
    });
    insta::assert_snapshot!(pretty(expansion));
}
