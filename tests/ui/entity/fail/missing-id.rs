use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    id: String,
    name: String,
}

fn main() {}
