use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(services = std::collections::HashMap<String, u64> name = "Product")]
pub struct Product {
    #[entity(id)]
    id: u64,
    price_cents: u64,
}

fn main() {}
