//! A unit-struct aggregate with the default error and services, and events whose stored name
//! and version are overridden; custom enum names; events that are not `PartialEq`.
#![deny(warnings, missing_docs)]

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// Someone pinged; stored under an older name, at schema version 3.
#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "PingReceived", version = 3)]
pub struct Pinged;

/// Someone ponged. Not `PartialEq`, so the event enum is not `PartialEq` either.
#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub enum Ponged {
    /// Loudly.
    Loud,
    /// Quietly.
    Quiet,
}

/// Pings.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Echo, name = "echo.ping")]
pub struct Ping;

/// A stateless echo.
#[derive(Debug, Default, Aggregate)]
#[aggregate(
    id = u64,
    name = "echo",
    events(Pinged, Ponged),
    commands(Ping),
    event_enum = Echoed,
    command_enum = EchoRequest,
)]
pub struct Echo;

impl Handle<Ping> for Echo {
    async fn handle(&self, _: Ping, _: &()) -> Result<Vec<Echoed>, std::convert::Infallible> {
        Ok(vec![Pinged.into(), Ponged::Quiet.into()])
    }
}

impl Apply<Pinged> for Echo {
    fn apply(&mut self, _: &Pinged) {}
}

impl Apply<Ponged> for Echo {
    fn apply(&mut self, _: &Ponged) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(<Pinged as DomainEvent>::EVENT_TYPE, "PingReceived");
    assert_eq!(<Pinged as DomainEvent>::EVENT_VERSION, 3);
    assert_eq!(<Ponged as DomainEvent>::EVENT_TYPE, "Ponged");
    assert_eq!(<Ponged as DomainEvent>::EVENT_VERSION, 1);
    assert_eq!(<Ping as Command>::COMMAND_TYPE, "echo.ping");
    assert_eq!(Echo::AGGREGATE_TYPE, "echo");
    assert_eq!(Echo::stream_id(&7), "echo-7");

    let fixture = AggregateFixture::<Echo>::new();
    let (events, _) = fixture.when(EchoRequest::Ping(Ping)).outcome().await;
    let events = events.unwrap_or_default();
    let stored: Vec<_> = events
        .iter()
        .map(|e| (e.event_type(), e.event_version()))
        .collect();
    assert_eq!(stored, [("PingReceived", 3), ("Ponged", 1)]);

    let json = serde_json::to_value(&events[0]).unwrap_or_default();
    assert_eq!(json["type"], "PingReceived");
    assert!(matches!(
        serde_json::from_value::<Echoed>(json),
        Ok(Echoed::Pinged(Pinged))
    ));
}
