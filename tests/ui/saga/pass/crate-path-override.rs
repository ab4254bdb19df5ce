//! Both saga macros accept `crate = path` when the runtime crate is reached under another name.
#![deny(warnings, missing_docs)]

extern crate aggregato as renamed;

use renamed::saga::{SagaSteps, StepKey, StepResult};
use serde::{Deserialize, Serialize};

/// Sends a welcome mail.
#[derive(Debug, Serialize, Deserialize, renamed::Saga)]
#[saga(crate = renamed)]
pub struct Welcome {
    sent: bool,
}

#[renamed::saga_steps(crate = renamed)]
impl Welcome {
    #[step(no_compensation)]
    async fn send(&mut self, _: &(), _: StepKey) -> StepResult {
        self.sent = true;
        Ok(())
    }
}

fn main() {
    assert_eq!(<Welcome as renamed::saga::Saga>::SAGA_TYPE, "Welcome");
    assert_eq!(Welcome::STEPS.len(), 1);
    assert_eq!(WelcomeStep::Send.name(), "send");
    assert!(!Welcome { sent: false }.sent);
}
