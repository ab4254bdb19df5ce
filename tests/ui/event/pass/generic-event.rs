//! `#[derive(DomainEvent)]` and `#[derive(Command)]` keep the generics of the type, and an
//! aggregate lists an instance of a generic type: `events(Recorded<u8>)`.
#![deny(warnings, missing_docs)]

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// A value was recorded.
#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Recorded")]
pub struct Recorded<T>
where
    T: Clone,
{
    /// The value.
    pub value: T,
}

/// Records a value.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Log)]
pub struct Record<T: Clone> {
    /// The value.
    pub value: T,
}

/// A log of numbers.
#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(Recorded<u8>), commands(Record<u8>))]
pub struct Log {
    values: Vec<u8>,
}

impl Handle<Record<u8>> for Log {
    async fn handle(
        &self,
        command: Record<u8>,
        _: &(),
    ) -> Result<Vec<LogEvent>, std::convert::Infallible> {
        Ok(vec![
            Recorded {
                value: command.value,
            }
            .into(),
        ])
    }
}

impl Apply<Recorded<u8>> for Log {
    fn apply(&mut self, event: &Recorded<u8>) {
        self.values.push(event.value);
    }
}

fn main() {
    assert_eq!(<Recorded<u8> as DomainEvent>::EVENT_TYPE, "Recorded");
    assert_eq!(<Record<u16> as Command>::COMMAND_TYPE, "Record");
    let mut log = Log::default();
    Aggregate::evolve(&mut log, &Recorded { value: 4 }.into());
    assert_eq!(log.values, [4]);
    assert!(matches!(
        LogEvent::from(Recorded { value: 1 }),
        LogEvent::Recorded(_)
    ));
}
