//! Runnable aggregato domains. Each module is one domain; each binary in `src/bin` runs one.

pub mod bank;
pub mod bank_views;
pub mod catalogue;
pub mod order_saga;
pub mod order_services;
pub mod shop;
pub mod store;
