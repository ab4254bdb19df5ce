//! The rules of `#[derive(Saga)]` and `#[saga_steps]` that darling cannot express, one file
//! per concern: the saga struct (`derive`), the impl block (`block`), its steps (`steps`), how
//! each step is undone (`marks`), and their signatures (`signature`).

mod block;
mod derive;
mod marks;
mod signature;
mod steps;

pub(in crate::saga) use block::{parse_args, plain_saga, steps};
pub(in crate::saga) use derive::saga;
pub(in crate::saga) use steps::variant_name;

/// How every step and compensation is declared, for messages.
const SIGNATURE: &str = "(&mut self, services: &Services, key: StepKey)";
