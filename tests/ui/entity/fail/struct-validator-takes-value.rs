use aggregato::prelude::*;

#[derive(Debug, thiserror::Error)]
#[error("blank")]
pub struct Blank;

fn consistent(product: Product) -> Result<(), Blank> {
    if product.name.is_empty() { Err(Blank) } else { Ok(()) }
}

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(error = Blank, validate = consistent)]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

fn main() {}
