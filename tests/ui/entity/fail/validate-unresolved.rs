use aggregato::prelude::*;

#[derive(Debug, thiserror::Error)]
#[error("invalid")]
pub struct Invalid;

fn positive(price_cents: &u64) -> Result<(), Invalid> {
    if *price_cents == 0 { Err(Invalid) } else { Ok(()) }
}

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(error = Invalid)]
pub struct Product {
    #[entity(id)]
    id: String,
    #[entity(validate = not_blank)]
    name: String,
    #[entity(validate = positive)]
    price_cents: u64,
}

fn main() {}
