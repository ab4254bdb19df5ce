//! Every derive accepts `crate = path` when the runtime crate is reached under another name.
#![deny(warnings, missing_docs)]

extern crate aggregato as renamed;

use renamed::{Apply, Handle};
use serde::{Deserialize, Serialize};

/// A light was switched.
#[derive(Debug, Clone, Serialize, Deserialize, renamed::DomainEvent)]
#[event(crate = renamed)]
pub struct Switched {
    /// On or off.
    pub on: bool,
}

/// Switches the light.
#[derive(Debug, Clone, renamed::Command)]
#[command(aggregate = Light, crate = renamed)]
pub struct Switch {
    /// On or off.
    pub on: bool,
}

/// A light.
#[derive(Debug, Default, renamed::Aggregate)]
#[aggregate(id = u32, events(Switched), commands(Switch), crate = renamed)]
pub struct Light {
    on: bool,
}

impl Handle<Switch> for Light {
    async fn handle(
        &self,
        command: Switch,
        _services: &(),
    ) -> Result<Vec<LightEvent>, std::convert::Infallible> {
        Ok(if command.on == self.on {
            Vec::new()
        } else {
            vec![Switched { on: command.on }.into()]
        })
    }
}

impl Apply<Switched> for Light {
    fn apply(&mut self, event: &Switched) {
        self.on = event.on;
    }
}

fn main() {
    use renamed::{Aggregate as _, EventSet as _};

    assert_eq!(Light::AGGREGATE_TYPE, "Light");
    assert_eq!(LightEvent::EVENT_TYPES, ["Switched"]);
    let mut light = Light::default();
    renamed::Aggregate::evolve(&mut light, &Switched { on: true }.into());
    assert!(light.on);
    let command = LightCommand::from(Switch { on: false });
    assert!(matches!(
        command,
        LightCommand::Switch(Switch { on: false })
    ));
}
