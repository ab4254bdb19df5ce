use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub currency: &'static str,
}

fn main() {}
