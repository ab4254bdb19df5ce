//! The bank account's rules and events, shared by both frameworks so that the domain logic is
//! the same code: only the framework glue differs.

use aggregato::DomainEvent;
use serde::{Deserialize, Serialize};

/// Why a command is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// A second open.
    #[error("the account is already open")]
    AlreadyOpen,
    /// A deposit or withdrawal before the open.
    #[error("the account is not open")]
    NotOpen,
    /// An amount that is zero or negative.
    #[error("the amount must be positive")]
    InvalidAmount,
    /// A withdrawal larger than the balance.
    #[error("insufficient funds: balance {balance}, requested {requested}")]
    InsufficientFunds {
        /// The balance.
        balance: i64,
        /// The amount asked for.
        requested: i64,
    },
}

/// An account was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct AccountOpened {
    /// The account's id.
    pub account_id: String,
}

/// Money was deposited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct MoneyDeposited {
    /// The amount.
    pub amount: i64,
}

/// Money was withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct MoneyWithdrawn {
    /// The amount.
    pub amount: i64,
}

/// The state of an account and its rules: what both frameworks' aggregates hold and call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Whether it was opened.
    pub open: bool,
    /// The balance.
    pub balance: i64,
}

impl Ledger {
    /// Decides an open.
    pub fn open(&self, account_id: String) -> Result<AccountOpened, BankError> {
        if self.open {
            return Err(BankError::AlreadyOpen);
        }
        Ok(AccountOpened { account_id })
    }

    /// Decides a deposit.
    pub fn deposit(&self, amount: i64) -> Result<MoneyDeposited, BankError> {
        if !self.open {
            return Err(BankError::NotOpen);
        }
        if amount <= 0 {
            return Err(BankError::InvalidAmount);
        }
        Ok(MoneyDeposited { amount })
    }

    /// Decides a withdrawal.
    pub fn withdraw(&self, amount: i64) -> Result<MoneyWithdrawn, BankError> {
        if !self.open {
            return Err(BankError::NotOpen);
        }
        if amount <= 0 {
            return Err(BankError::InvalidAmount);
        }
        if amount > self.balance {
            return Err(BankError::InsufficientFunds {
                balance: self.balance,
                requested: amount,
            });
        }
        Ok(MoneyWithdrawn { amount })
    }

    /// Evolves by an open.
    pub fn opened(&mut self, _: &AccountOpened) {
        self.open = true;
    }

    /// Evolves by a deposit.
    pub fn deposited(&mut self, event: &MoneyDeposited) {
        self.balance += event.amount;
    }

    /// Evolves by a withdrawal.
    pub fn withdrawn(&mut self, event: &MoneyWithdrawn) {
        self.balance -= event.amount;
    }
}
