use aggregato::prelude::*;

#[derive(Debug, Clone)]
pub struct Product;

#[derive(Debug, Clone, Command)]
#[command(entity = Product)]
pub struct Deposit {
    pub amount: u64,
}

fn main() {}
