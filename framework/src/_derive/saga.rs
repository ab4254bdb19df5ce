//! `#[derive(Saga)]`: its keys and what it generates.
//!
//! Derives [`Saga`](crate::saga::Saga) for the struct holding a saga's data: its stored name and
//! the services its steps receive.
//!
//! The struct must have named fields (or none), must not be generic, and must be serde
//! `Serialize` and `Deserialize`: the executor records the data after every step. Declare the
//! steps with [`#[saga_steps]`](macro@crate::saga_steps) on the struct's `impl` block.
//!
//! ```
//! use aggregato::prelude::*;
//! use aggregato::saga::{Saga, StepKey, StepResult};
//! use serde::{Deserialize, Serialize};
//!
//! pub struct Mailer;
//!
//! #[derive(Debug, Serialize, Deserialize, Saga)]
//! #[saga(name = "Welcome", services = Mailer)]
//! pub struct WelcomeCustomer {
//!     email: String,
//!     sent: bool,
//! }
//!
//! #[saga_steps]
//! impl WelcomeCustomer {
//!     #[step(no_compensation)]
//!     async fn send_mail(&mut self, _mailer: &Mailer, _key: StepKey) -> StepResult {
//!         self.sent = true;
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(WelcomeCustomer::SAGA_TYPE, "Welcome");
//! ```
//!
//! ## `#[saga(...)]` keys, all optional
//!
//! | key | meaning |
//! |---|---|
//! | `name = "..."` | [`Saga::SAGA_TYPE`](crate::saga::Saga::SAGA_TYPE), the stored name: the prefix of each instance's stream and the aggregate type of its events. Default: the struct's name. Keep it when renaming the struct. Must not be empty. |
//! | `services = Type` | [`Saga::Services`](crate::saga::Saga::Services), what the steps receive (`Send + Sync + 'static`). Default `()`. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
