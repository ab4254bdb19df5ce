use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Recorded", version = 1)]
pub struct RecordedV1 {
    pub value: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Recorded", version = 2, upcast_from = RecordedV1)]
pub struct Recorded<T> {
    pub value: T,
}

fn main() {}
