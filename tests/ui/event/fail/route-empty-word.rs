use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(route = "payments..settled")]
pub struct PaymentSettled;

fn main() {}
