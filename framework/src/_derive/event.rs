//! `#[derive(DomainEvent)]`: its keys and what it generates.
//!
//! Derives [`DomainEvent`](trait@crate::DomainEvent): a stable stored name and a schema version for one event
//! type.
//!
//! Works on any struct or enum; the type must also be serde `Serialize` and `Deserialize`,
//! `Clone`, `Debug`, `Send`, `Sync` and `'static`. On a generic type the impl holds for the
//! type arguments that meet those bounds.
//!
//! ```
//! use aggregato::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! #[event(name = "MoneyDeposited", version = 2)]
//! pub struct Deposited {
//!     pub amount: u64,
//! }
//!
//! assert_eq!(Deposited::EVENT_TYPE, "MoneyDeposited");
//! assert_eq!(Deposited::EVENT_VERSION, 2);
//! ```
//!
//! ## `#[event(...)]` keys, all optional
//!
//! | key | meaning |
//! |---|---|
//! | `name = "..."` | [`DomainEvent::EVENT_TYPE`](crate::DomainEvent::EVENT_TYPE), stored with every event. Default: the type's name. Keep it when renaming the type. Must not be empty. |
//! | `version = N` | [`DomainEvent::EVENT_VERSION`](crate::DomainEvent::EVENT_VERSION), the payload's schema version. Default 1; must be at least 1. |
//! | `upcast_from = Type` | The previous schema of this event: a `DomainEvent` with the same `name` and a lower `version`, with `impl From<Type> for ThisEvent`. Payloads stored at older versions decode as `Type` (and, through its own `upcast_from`, older still) and are converted up. Needs `version` of 2 or more; not on generic types. |
//! | `aliases("Old", ...)` | Names this event was stored under before it was renamed: stored events of those names decode as this one ([`DomainEvent::EVENT_ALIASES`](crate::DomainEvent::EVENT_ALIASES)); new ones are stored under `name`. A filter or subscription by event type names the stored names, so list the old ones there too. |
//! | `route = "a.b"` | Where the outbox sends this event ([`DomainEvent::EVENT_ROUTE`](crate::DomainEvent::EVENT_ROUTE)), once the publisher was given its aggregate's routes ([`Publisher::with_routes`](crate::outbox::Publisher::with_routes)): NATS publishes to `<prefix>.a.b`, RabbitMQ uses it as the routing key, Kafka as the topic; a router set on the broker wins over it. Words of ASCII letters, digits, `_` and `-` separated by single dots, at most 249 characters (what all three brokers carry); anything else does not compile. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ## Changing an event's schema
//!
//! Stored events are never rewritten. Keep the old shape as its own type and point the new
//! one at it:
//!
//! ```
//! use aggregato::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! /// The first schema, kept to read old payloads.
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! #[event(name = "MoneyDeposited", version = 1)]
//! pub struct MoneyDepositedV1 {
//!     pub amount: u64,
//! }
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
//! #[event(name = "MoneyDeposited", version = 2, upcast_from = MoneyDepositedV1)]
//! pub struct MoneyDeposited {
//!     pub amount: u64,
//!     pub currency: String,
//! }
//!
//! impl From<MoneyDepositedV1> for MoneyDeposited {
//!     fn from(old: MoneyDepositedV1) -> Self {
//!         Self { amount: old.amount, currency: "EUR".to_owned() }
//!     }
//! }
//!
//! let stored_at_v1 = serde_json::json!({ "amount": 5 });
//! let event = MoneyDeposited::decode_stored(1, &stored_at_v1)?;
//! assert_eq!(event, MoneyDeposited { amount: 5, currency: "EUR".to_owned() });
//! # Ok::<(), aggregato::DecodeError>(())
//! ```
