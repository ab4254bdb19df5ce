//! The seed's banking domain: a bank account that can be opened, credited, debited and
//! closed, whose withdrawals are first cleared by an injected risk engine.

use std::collections::HashSet;
use std::fmt;

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// Identifies an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountId(pub String);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---- commands ----

/// Opens a new account for `owner`.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount)]
pub struct OpenAccount {
    /// The account's id.
    pub account_id: AccountId,
    /// Its holder.
    pub owner: String,
}

/// Puts money in.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount)]
pub struct DepositMoney {
    /// In cents; must be positive.
    pub amount: u64,
}

/// Takes money out, if the balance covers it and the risk engine clears it.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount)]
pub struct WithdrawMoney {
    /// In cents; must be positive.
    pub amount: u64,
}

/// Closes an account whose balance is zero.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount)]
pub struct CloseAccount;

// ---- events ----

/// An account was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct AccountOpened {
    /// The account's id.
    pub account_id: AccountId,
    /// Its holder.
    pub owner: String,
}

/// Money was deposited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct MoneyDeposited {
    /// In cents.
    pub amount: u64,
    /// The balance after the deposit.
    pub balance: u64,
}

/// Money was withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct MoneyWithdrawn {
    /// In cents.
    pub amount: u64,
    /// The balance after the withdrawal.
    pub balance: u64,
}

/// The account was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "AccountClosed", version = 1)]
pub struct AccountClosed;

// ---- errors and services ----

/// Why the bank refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// `OpenAccount` on an account that exists.
    #[error("the account is already open")]
    AlreadyOpen,
    /// Any command but `OpenAccount` on an account that was never opened.
    #[error("the account is not open")]
    NotOpen,
    /// Any command on a closed account.
    #[error("the account is closed")]
    Closed,
    /// A zero amount.
    #[error("the amount must be positive")]
    InvalidAmount,
    /// A withdrawal larger than the balance.
    #[error("insufficient funds: balance {balance}, requested {requested}")]
    InsufficientFunds {
        /// The balance.
        balance: u64,
        /// The amount asked for.
        requested: u64,
    },
    /// The risk engine refused the withdrawal.
    #[error("refused by the risk check: {0}")]
    RiskRejected(String),
    /// `CloseAccount` while money is left.
    #[error("the balance must be zero to close, it is {0}")]
    BalanceNotZero(u64),
}

/// The risk engine the withdraw handler consults: refuses withdrawals above a limit, and any
/// from a blocked owner.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    /// The largest single withdrawal it clears, in cents.
    pub max_withdrawal: u64,
    /// Owners whose withdrawals it refuses.
    pub blocked_owners: HashSet<String>,
}

impl Default for RiskEngine {
    fn default() -> Self {
        Self {
            max_withdrawal: 1_000_000,
            blocked_owners: HashSet::new(),
        }
    }
}

impl RiskEngine {
    /// Clears or refuses a withdrawal. Async, as a real engine is a remote call.
    pub async fn assess(&self, owner: &str, amount: u64) -> Result<(), String> {
        tokio::task::yield_now().await;
        if self.blocked_owners.contains(owner) {
            return Err(format!("owner {owner} is blocked"));
        }
        if amount > self.max_withdrawal {
            return Err(format!(
                "{amount} exceeds the single-withdrawal limit of {}",
                self.max_withdrawal
            ));
        }
        Ok(())
    }
}

/// What the bank's command handlers may call.
#[derive(Debug, Clone, Default)]
pub struct BankServices {
    /// The risk engine.
    pub risk: RiskEngine,
}

// ---- the aggregate ----

/// A bank account.
#[derive(Debug, Default, Aggregate)]
#[aggregate(
    id = AccountId,
    error = BankError,
    services = BankServices,
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    commands(OpenAccount, DepositMoney, WithdrawMoney, CloseAccount)
)]
pub struct BankAccount {
    owner: Option<String>,
    balance: u64,
    closed: bool,
}

impl BankAccount {
    /// The balance in cents.
    pub fn balance(&self) -> u64 {
        self.balance
    }

    /// Whether the account was opened and not closed.
    pub fn is_open(&self) -> bool {
        self.owner.is_some() && !self.closed
    }

    fn ensure_open(&self) -> Result<&str, BankError> {
        match (&self.owner, self.closed) {
            (_, true) => Err(BankError::Closed),
            (None, false) => Err(BankError::NotOpen),
            (Some(owner), false) => Ok(owner),
        }
    }
}

impl Handle<OpenAccount> for BankAccount {
    async fn handle(
        &self,
        command: OpenAccount,
        _: &BankServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        if self.owner.is_some() {
            return Err(BankError::AlreadyOpen);
        }
        Ok(vec![
            AccountOpened {
                account_id: command.account_id,
                owner: command.owner,
            }
            .into(),
        ])
    }
}

impl Handle<DepositMoney> for BankAccount {
    async fn handle(
        &self,
        command: DepositMoney,
        _: &BankServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        self.ensure_open()?;
        if command.amount == 0 {
            return Err(BankError::InvalidAmount);
        }
        let balance = self.balance + command.amount;
        Ok(vec![
            MoneyDeposited {
                amount: command.amount,
                balance,
            }
            .into(),
        ])
    }
}

impl Handle<WithdrawMoney> for BankAccount {
    async fn handle(
        &self,
        command: WithdrawMoney,
        services: &BankServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        let owner = self.ensure_open()?;
        if command.amount == 0 {
            return Err(BankError::InvalidAmount);
        }
        if command.amount > self.balance {
            return Err(BankError::InsufficientFunds {
                balance: self.balance,
                requested: command.amount,
            });
        }
        services
            .risk
            .assess(owner, command.amount)
            .await
            .map_err(BankError::RiskRejected)?;
        let balance = self.balance - command.amount;
        Ok(vec![
            MoneyWithdrawn {
                amount: command.amount,
                balance,
            }
            .into(),
        ])
    }
}

impl Handle<CloseAccount> for BankAccount {
    async fn handle(
        &self,
        _: CloseAccount,
        _: &BankServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        self.ensure_open()?;
        if self.balance != 0 {
            return Err(BankError::BalanceNotZero(self.balance));
        }
        Ok(vec![AccountClosed.into()])
    }
}

impl Apply<AccountOpened> for BankAccount {
    fn apply(&mut self, event: &AccountOpened) {
        self.owner = Some(event.owner.clone());
    }
}

impl Apply<MoneyDeposited> for BankAccount {
    fn apply(&mut self, event: &MoneyDeposited) {
        self.balance = event.balance;
    }
}

impl Apply<MoneyWithdrawn> for BankAccount {
    fn apply(&mut self, event: &MoneyWithdrawn) {
        self.balance = event.balance;
    }
}

impl Apply<AccountClosed> for BankAccount {
    fn apply(&mut self, _: &AccountClosed) {
        self.closed = true;
    }
}
