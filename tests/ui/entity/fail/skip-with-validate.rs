use aggregato::prelude::*;

#[derive(Debug, thiserror::Error)]
#[error("invalid")]
pub struct Invalid;

fn small(views: &u32) -> Result<(), Invalid> {
    if *views > 10 { Err(Invalid) } else { Ok(()) }
}

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(error = Invalid)]
pub struct Product {
    #[entity(id)]
    id: String,
    #[entity(skip, validate = small)]
    views: u32,
}

fn main() {}
