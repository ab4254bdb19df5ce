use aggregato::prelude::*;

#[derive(Debug, Default)]
pub struct Account;

#[derive(Debug, Clone, Command)]
#[command(aggregate = "Account")]
pub struct Deposit {
    pub amount: u64,
}

fn main() {}
