//! `#[saga_steps]` and `#[step(...)]`: its keys and what it generates.
//!
//! Declares a saga's steps: implements [`SagaSteps`](crate::saga::SagaSteps) from the `#[step(...)]`
//! methods of the saga's `impl` block, and generates the step enum `{Saga}Step`.
//!
//! Goes on an inherent, non-generic `impl` block of a [`#[derive(Saga)]`](derive@crate::Saga) struct. The methods marked
//! `#[step(...)]` are the steps, in declaration order; the others (compensations, helpers)
//! are left as they are. Every step and compensation is
//!
//! ```text
//! async fn name(&mut self, services: &Services, key: StepKey) -> Result<(), E>
//! ```
//!
//! where `Services` is the saga's `services = ..` (`()` by default), `E` is any
//! `Display` error ([`StepResult`](crate::saga::StepResult) is `Result<(), `[`StepError`](crate::saga::StepError)`>`),
//! and `key` is the step's idempotency key, a [`StepKey`](crate::saga::StepKey): `"{SAGA_TYPE}/{saga id}/{step}"` (with `/compensate` for a
//! compensation). All three parameters are required; name an unused one `_services` or `_key`.
//!
//! ```
//! use aggregato::prelude::*;
//! use aggregato::saga::{SagaSteps, StepKey, StepKind, StepResult};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize, Saga)]
//! pub struct PlaceOrder {
//!     reserved: bool,
//!     paid: bool,
//! }
//!
//! #[saga_steps]
//! impl PlaceOrder {
//!     #[step(compensate = release_stock, timeout_ms = 5000)]
//!     async fn reserve_stock(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         self.reserved = true;
//!         Ok(())
//!     }
//!
//!     #[step(compensate = refund)]
//!     async fn charge_card(&mut self, _: &(), _key: StepKey) -> Result<(), String> {
//!         self.paid = true;
//!         Ok(())
//!     }
//!
//!     #[step(pivot)]
//!     async fn ship(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         Ok(())
//!     }
//!
//!     #[step(no_compensation)]
//!     async fn notify(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         Ok(())
//!     }
//!
//!     async fn release_stock(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         self.reserved = false;
//!         Ok(())
//!     }
//!
//!     async fn refund(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         self.paid = false;
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(PlaceOrder::STEPS[0].name, "reserve_stock");
//! assert_eq!(
//!     PlaceOrder::STEPS[1].kind,
//!     StepKind::Compensable { compensation: "refund" }
//! );
//! assert_eq!(PlaceOrderStep::Ship.index(), 2);
//! assert_eq!(PlaceOrderStep::ALL.len(), PlaceOrder::STEPS.len());
//! ```
//!
//! ## `#[step(...)]` options
//!
//! Each step says how it is undone, with exactly one of:
//!
//! | option | meaning |
//! |---|---|
//! | `compensate = method` | If a later step fails (before the pivot), `method`, a method of the same block that is not a step, undoes this one. |
//! | `pivot` | The point of no return, at most one per saga. If it fails, the steps before it are compensated; once it has completed, the steps after it are retried until they succeed, never compensated, so they cannot name a compensation either. |
//! | `no_compensation` | Nothing to undo (a read, a notification). |
//!
//! and optionally `timeout_ms = N`: a run of the step (or its compensation) that takes longer
//! than `N` milliseconds is interrupted. Without it, the executor's default applies. A step
//! interrupted so has an unknown outcome (its participant may have done the work), recorded
//! as [`StepTimedOut`](crate::saga::SagaEvent::StepTimedOut): before the pivot it is compensated along with the completed steps, so
//! its compensation must succeed when there is nothing to undo; a `pivot` is run again with
//! the same `StepKey` until it answers, and the saga ends failed (not compensated) if it never
//! does within the forward [`RetryPolicy`](crate::RetryPolicy) of the
//! [`SagaExecutor`](crate::saga::SagaExecutor). A compensation interrupted so is a failed attempt,
//! retried.
//!
//! ## `#[saga_steps(...)]` arguments, all optional
//!
//! | argument | meaning |
//! |---|---|
//! | `step_enum = Ident` | The name of the generated step enum. Default `{Saga}Step`. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ## What it generates
//!
//! - The `impl` block, without the `#[step(...)]` attributes.
//! - `impl SagaSteps`: [`STEPS`](crate::saga::SagaSteps::STEPS) (each step's name, [kind](crate::saga::StepKind) and timeout, in
//!   order) and the dispatch of `run_step` and `compensate_step` to the methods.
//! - `pub enum {Saga}Step`, one variant per step in `PascalCase` (`reserve_stock` becomes
//!   `ReserveStock`), with `ALL`, `name()`, `index()` and `from_name()`, for referring to
//!   steps by type in tests and observers.
