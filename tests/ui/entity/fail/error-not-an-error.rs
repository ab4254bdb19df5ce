use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(error = String)]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

fn main() {}
