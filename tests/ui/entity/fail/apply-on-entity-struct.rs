use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Discontinued;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(events(Discontinued))]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

impl Apply<Discontinued> for Product {
    fn apply(&mut self, _: &Discontinued) {}
}

fn main() {}
