use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
pub enum Product {
    Book { id: String, title: String },
}

fn main() {}
