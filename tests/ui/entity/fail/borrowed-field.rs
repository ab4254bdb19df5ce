use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    name: &'static str,
}

fn main() {}
