//! Runnable aggregato domains. Each module is one domain; each binary in `src/bin` runs one.

pub mod bank;
pub mod store;
