//! A full aggregate: services, a domain error, an async handler that awaits, every option.
#![deny(warnings, missing_docs)]

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// Identifies an account.
pub type AccountId = String;

/// Why a bank command is rejected.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum BankError {
    /// The account is closed.
    #[error("the account is not open")]
    NotOpen,
    /// Not enough money.
    #[error("insufficient funds")]
    InsufficientFunds,
    /// The risk engine said no.
    #[error("refused by risk")]
    Risky,
}

/// Decides whether a withdrawal is too risky.
#[derive(Debug, Default)]
pub struct RiskServices {
    /// The largest withdrawal allowed.
    pub limit: u64,
}

impl RiskServices {
    async fn allows(&self, amount: u64) -> bool {
        tokio::task::yield_now().await;
        amount <= self.limit
    }
}

/// An account was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct AccountOpened {
    /// The owner.
    pub owner: String,
}

/// Money came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "MoneyDeposited", version = 2)]
pub struct MoneyDeposited {
    /// How much.
    pub amount: u64,
}

/// Money went out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct MoneyWithdrawn {
    /// How much.
    pub amount: u64,
}

/// Opens the account.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount)]
pub struct OpenAccount {
    /// The owner.
    pub owner: String,
}

/// Deposits money.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount, name = "Deposit")]
pub struct DepositMoney {
    /// How much.
    pub amount: u64,
}

/// Withdraws money.
#[derive(Debug, Clone, Command)]
#[command(aggregate = BankAccount)]
pub struct WithdrawMoney {
    /// How much.
    pub amount: u64,
}

/// A bank account.
#[derive(Debug, Default, Aggregate)]
#[aggregate(
    id = AccountId,
    error = BankError,
    services = RiskServices,
    name = "BankAccount",
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn),
    commands(OpenAccount, DepositMoney, WithdrawMoney),
    event_enum = BankAccountEvent,
    command_enum = BankAccountCommand,
    crate = ::aggregato,
)]
pub struct BankAccount {
    balance: u64,
    open: bool,
}

impl Handle<OpenAccount> for BankAccount {
    async fn handle(
        &self,
        cmd: OpenAccount,
        _services: &RiskServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        Ok(vec![AccountOpened { owner: cmd.owner }.into()])
    }
}

impl Handle<DepositMoney> for BankAccount {
    async fn handle(
        &self,
        cmd: DepositMoney,
        _services: &RiskServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        if !self.open {
            return Err(BankError::NotOpen);
        }
        Ok(vec![MoneyDeposited { amount: cmd.amount }.into()])
    }
}

impl Handle<WithdrawMoney> for BankAccount {
    async fn handle(
        &self,
        cmd: WithdrawMoney,
        services: &RiskServices,
    ) -> Result<Vec<BankAccountEvent>, BankError> {
        if cmd.amount > self.balance {
            return Err(BankError::InsufficientFunds);
        }
        if !services.allows(cmd.amount).await {
            return Err(BankError::Risky);
        }
        Ok(vec![MoneyWithdrawn { amount: cmd.amount }.into()])
    }
}

impl Apply<AccountOpened> for BankAccount {
    fn apply(&mut self, _event: &AccountOpened) {
        self.open = true;
    }
}

impl Apply<MoneyDeposited> for BankAccount {
    fn apply(&mut self, event: &MoneyDeposited) {
        self.balance += event.amount;
    }
}

impl Apply<MoneyWithdrawn> for BankAccount {
    fn apply(&mut self, event: &MoneyWithdrawn) {
        self.balance -= event.amount;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repository: Repository<BankAccount, _> =
        Repository::new_with_services(InMemoryEventStore::new(), RiskServices { limit: 50 });
    let id: AccountId = "acc-1".to_owned();
    repository
        .execute(
            &id,
            OpenAccount {
                owner: "ada".into(),
            },
        )
        .await?;
    repository
        .execute(&id, DepositMoney { amount: 100 })
        .await?;
    let refused = repository.execute(&id, WithdrawMoney { amount: 80 }).await;
    assert_eq!(
        refused.err().and_then(|e| e.rejection().cloned_error()),
        Some(BankError::Risky)
    );
    repository
        .execute(&id, WithdrawMoney { amount: 30 })
        .await?;
    let root = repository.load(&id).await?;
    assert_eq!(root.version(), 3);
    assert_eq!(root.state().balance, 70);

    assert_eq!(BankAccount::AGGREGATE_TYPE, "BankAccount");
    assert_eq!(
        BankAccountEvent::EVENT_TYPES,
        ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"]
    );
    assert_eq!(<DepositMoney as Command>::COMMAND_TYPE, "Deposit");

    let event = BankAccountEvent::from(MoneyDeposited { amount: 5 });
    let json = serde_json::to_value(&event)?;
    assert_eq!(
        json,
        serde_json::json!({"type": "MoneyDeposited", "version": 2, "data": {"amount": 5}})
    );
    let back: BankAccountEvent = serde_json::from_value(json)?;
    assert_eq!(back, event);
    assert!(
        serde_json::from_value::<BankAccountEvent>(
            serde_json::json!({"type": "MoneyDeposited", "version": 1, "data": {"amount": 5}})
        )
        .is_err()
    );
    assert!(BankAccountEvent::decode("Nope", 1, &serde_json::json!({})).is_err());
    Ok(())
}

trait ClonedError {
    fn cloned_error(self) -> Option<BankError>;
}

impl ClonedError for Option<&BankError> {
    fn cloned_error(self) -> Option<BankError> {
        self.map(|error| match error {
            BankError::NotOpen => BankError::NotOpen,
            BankError::InsufficientFunds => BankError::InsufficientFunds,
            BankError::Risky => BankError::Risky,
        })
    }
}
