use aggregato::prelude::*;

#[derive(Debug, Default, Aggregate)]
pub struct Account {
    balance: u64,
}

fn main() {}
