//! The order saga split across two processes that share nothing but a broker: the order
//! service (`src/bin/order_service.rs`, its own store) places orders, and the inventory service
//! (`src/bin/inventory_service.rs`, another store) reserves their stock. Each publishes its
//! aggregate's events through an outbox [`Publisher`](aggregato::outbox::Publisher), with the
//! routes of `#[event(route = "...")]`, to NATS JetStream, and consumes the other's:
//!
//! ```text
//! order service                      NATS stream `<prefix>.>`           inventory service
//! PlaceOrder -> OrderPlaced  ---->  <prefix>.orders.placed   ---->  Reserve
//! ConfirmOrder / CancelOrder <----  <prefix>.stock.reserved  <----  StockReserved
//!                                   <prefix>.stock.refused   <----  ReservationRefused
//! ```
//!
//! **One effect per message.** A consumed message's effect is a command on an aggregate, and a
//! [`Repository`](aggregato::Repository) appends its events in the event store's own
//! transaction: it cannot join the transaction of an [inbox](aggregato::outbox::inbox)
//! (`SqliteInbox::receive` even holds SQLite's write lock, which the append would wait on).
//! So the command is made idempotent by the message instead:
//! [`Repository::execute_idempotent`](aggregato::Repository::execute_idempotent) with the
//! message id (the event id) as its key. A redelivered message finds the events its first
//! delivery stored and changes nothing, with no table beside the events and no retention to
//! outlive. Use the inbox when the effect is SQL of your own, in the same database. Both
//! aggregates are also idempotent per order, so even a message published twice under two ids
//! would not reserve twice.
//!
//! The consumer acks a message only after the command committed, so a crash in between
//! redelivers it; the publisher moves its checkpoint only after the broker acknowledged, so a
//! crash there republishes. Neither loses a message, and neither duplicates an effect.

pub mod bus;
pub mod inventory;
pub mod orders;

/// The SKU every demo order buys.
pub const SKU: &str = "mug";
