use aggregato::prelude::*;

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Open;

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(), commands(Open, Deposit))]
pub struct Account {
    balance: u64,
}

impl Handle<Open> for Account {
    async fn handle(&self, _: Open, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![])
    }
}

impl Handle<Deposit> for Account {
    async fn handle(&self, _: Deposit, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![])
    }
}

fn main() {}
