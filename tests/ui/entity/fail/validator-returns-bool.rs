use aggregato::prelude::*;

#[derive(Debug, thiserror::Error)]
#[error("blank")]
pub struct Blank;

fn not_blank(name: &str) -> bool {
    !name.is_empty()
}

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(error = Blank)]
pub struct Product {
    #[entity(id)]
    id: String,
    #[entity(validate = not_blank)]
    name: String,
}

fn main() {}
