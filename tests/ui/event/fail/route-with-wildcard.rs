use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "PaymentSettled", route = "payments.*")]
pub struct Settled;

fn main() {}
