//! A hand-written `Aggregate` whose type name contains `-`: its stream ids could collide with
//! another type's, so using them is a compile error.
use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AccountEvent {
    Opened(Opened),
}

impl aggregato::EventSet for AccountEvent {
    const EVENT_TYPES: &'static [&'static str] = &["Opened"];
    fn event_type(&self) -> &'static str {
        "Opened"
    }
    fn event_version(&self) -> u32 {
        1
    }
    fn encode(&self) -> Result<serde_json::Value, serde_json::Error> {
        Ok(serde_json::Value::Null)
    }
    fn decode<'a>(
        _: &str,
        _: u32,
        _: impl Into<aggregato::event::StoredPayload<'a>>,
    ) -> Result<Self, aggregato::DecodeError> {
        Ok(Self::Opened(Opened))
    }
}

#[derive(Debug, Default)]
pub struct Account;

impl Aggregate for Account {
    const AGGREGATE_TYPE: &'static str = "Bank-Account";
    type Id = String;
    type Event = AccountEvent;
    type Command = ();
    type Error = std::convert::Infallible;
    type Services = ();

    async fn decide(&self, _: (), _: &()) -> Result<Vec<AccountEvent>, Self::Error> {
        Ok(Vec::new())
    }

    fn evolve(&mut self, _: &AccountEvent) {}

    fn initial_state() -> Self {
        Self::default()
    }
}

fn main() {
    let _ = Account::stream_id(&"a".to_owned());
}
