//! `#[derive(Saga)]` with generic services, written unquoted: a shared trait object, a path
//! with a lifetime and a type argument, and a tuple.
#![deny(warnings, missing_docs)]

use std::sync::Arc;

use aggregato::prelude::*;
use aggregato::saga::{Saga, SagaExecutor, StepKey, StepResult};
use serde::{Deserialize, Serialize};

/// Takes payments.
pub trait Payments {
    /// Whether the card is accepted.
    fn accepts(&self) -> bool;
}

/// Accepts every card.
pub struct Lenient;

impl Payments for Lenient {
    fn accepts(&self) -> bool {
        true
    }
}

/// Services with a lifetime and a type parameter.
pub mod my {
    /// A label and a value.
    pub struct Services<'a, T> {
        /// The label.
        pub label: &'a str,
        /// The value.
        pub value: T,
    }
}

/// Charges a card through a shared trait object.
#[derive(Debug, Serialize, Deserialize, Saga)]
#[saga(services = Arc<dyn Payments + Send + Sync>)]
pub struct Charge {
    paid: bool,
}

#[saga_steps]
impl Charge {
    #[step(no_compensation)]
    async fn charge(
        &mut self,
        payments: &Arc<dyn Payments + Send + Sync>,
        _: StepKey,
    ) -> StepResult {
        self.paid = payments.accepts();
        Ok(())
    }
}

/// Labels something.
#[derive(Debug, Serialize, Deserialize, Saga)]
#[saga(name = "Label", services = my::Services<'static, u8>)]
pub struct Label;

#[saga_steps]
impl Label {
    #[step(no_compensation)]
    async fn label(&mut self, services: &my::Services<'static, u8>, _: StepKey) -> StepResult {
        let _ = (services.label, services.value);
        Ok(())
    }
}

/// Pairs two things.
#[derive(Debug, Serialize, Deserialize, Saga)]
#[saga(services = (Arc<dyn Payments + Send + Sync>, Vec<u8>))]
pub struct Pair;

#[saga_steps]
impl Pair {
    #[step(no_compensation)]
    async fn pair(
        &mut self,
        (payments, extra): &(Arc<dyn Payments + Send + Sync>, Vec<u8>),
        _: StepKey,
    ) -> StepResult {
        let _ = (payments.accepts(), extra.len());
        Ok(())
    }
}

fn main() {
    assert_eq!(Charge::SAGA_TYPE, "Charge");
    assert_eq!(Label::SAGA_TYPE, "Label");
    assert_eq!(Pair::SAGA_TYPE, "Pair");
    let payments: Arc<dyn Payments + Send + Sync> = Arc::new(Lenient);
    let charge = SagaExecutor::<Charge, _>::new(InMemoryEventStore::new(), payments.clone());
    let label = SagaExecutor::<Label, _>::new(
        InMemoryEventStore::new(),
        my::Services {
            label: "l",
            value: 1,
        },
    );
    let pair = SagaExecutor::<Pair, _>::new(InMemoryEventStore::new(), (payments, vec![1]));
    let _ = (charge, label, pair, Charge { paid: false });
}
