//! `#[derive(DomainEvent)]` whose `upcast_from` names an instance of a generic event type,
//! written unquoted: `upcast_from = legacy::Credited<u32>`.
#![deny(warnings, missing_docs)]

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The first schema.
pub mod legacy {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};

    /// Version 1: an amount of any unsigned width.
    #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
    #[event(name = "Credited", version = 1)]
    pub struct Credited<T: Clone> {
        /// Whole units.
        pub units: T,
    }
}

/// Version 2, current: the amount in cents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "Credited", version = 2, upcast_from = legacy::Credited<u32>)]
pub struct Credited {
    /// Cents.
    pub cents: u64,
}

impl From<legacy::Credited<u32>> for Credited {
    fn from(old: legacy::Credited<u32>) -> Self {
        Self {
            cents: u64::from(old.units) * 100,
        }
    }
}

fn main() {
    let upcast = <Credited as DomainEvent>::decode_stored(1, &json!({ "units": 3 }));
    assert_eq!(upcast.ok(), Some(Credited { cents: 300 }));
}
