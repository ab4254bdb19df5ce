//! A saga with every kind of step, its defaults and a custom step enum, under
//! `deny(warnings, missing_docs)`.
#![deny(warnings, missing_docs)]

use aggregato::prelude::*;
use aggregato::saga::{Saga, SagaExecutor, SagaSteps, StepKey, StepKind, StepResult};
use serde::{Deserialize, Serialize};

/// What the steps call.
pub struct ShopServices {
    /// Whether the card is accepted.
    pub accept_cards: bool,
}

/// A step's own error.
#[derive(Debug, thiserror::Error)]
#[error("payment declined")]
pub struct PaymentError;

/// Places an order.
#[derive(Debug, Clone, Serialize, Deserialize, Saga)]
#[saga(name = "PlaceOrder", services = ShopServices)]
pub struct PlaceOrder {
    order_id: String,
    reservation: Option<String>,
    payment: Option<String>,
}

#[saga_steps]
impl PlaceOrder {
    /// Holds the goods.
    #[step(compensate = release_stock, timeout_ms = 5000)]
    async fn reserve_stock(&mut self, _services: &ShopServices, key: StepKey) -> StepResult {
        self.reservation = Some(key.to_string());
        Ok(())
    }

    #[step(compensate = refund)]
    async fn charge_card(
        &mut self,
        services: &ShopServices,
        _key: StepKey,
    ) -> Result<(), PaymentError> {
        if !services.accept_cards {
            return Err(PaymentError);
        }
        self.payment = Some(self.order_id.clone());
        Ok(())
    }

    #[step(pivot)]
    async fn ship(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
        Ok(())
    }

    #[step(no_compensation)]
    async fn notify(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
        Ok(())
    }

    async fn release_stock(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
        self.reservation = None;
        Ok(())
    }

    async fn refund(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
        self.payment = None;
        Ok(())
    }

    /// A helper beside the steps, left alone.
    pub fn is_paid(&self) -> bool {
        self.payment.is_some()
    }
}

/// A saga without services, data or compensations; its step enum renamed.
#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct Ping;

#[saga_steps(step_enum = PingStage)]
impl Ping {
    #[step(no_compensation)]
    async fn ping(&mut self, _: &(), _: StepKey) -> Result<(), String> {
        Ok(())
    }
}

fn main() {
    assert_eq!(PlaceOrder::SAGA_TYPE, "PlaceOrder");
    assert_eq!(Ping::SAGA_TYPE, "Ping");
    let names: Vec<&str> = PlaceOrder::STEPS.iter().map(|step| step.name).collect();
    assert_eq!(names, ["reserve_stock", "charge_card", "ship", "notify"]);
    assert_eq!(PlaceOrder::STEPS[2].kind, StepKind::Pivot);
    assert_eq!(PlaceOrderStep::Notify.index(), 3);
    assert_eq!(PingStage::ALL, [PingStage::Ping]);

    let order = PlaceOrder {
        order_id: "o-1".to_owned(),
        reservation: None,
        payment: None,
    };
    assert!(!order.is_paid());
    let executor = SagaExecutor::<PlaceOrder, _>::new(
        InMemoryEventStore::new(),
        ShopServices { accept_cards: true },
    );
    let _ = (executor, order);
}
