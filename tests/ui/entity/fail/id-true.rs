use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id = true)]
    id: String,
    name: String,
}

fn main() {}
