//! The workload: open `accounts` accounts, then `commands` commands round-robin. Command `i`
//! goes to account `i % accounts`: a deposit of 100 when its round `i / accounts` is even, a
//! withdrawal of 60 when odd, so every command succeeds with exactly one event.

/// A deposit's amount.
pub const DEPOSIT: i64 = 100;
/// A withdrawal's amount.
pub const WITHDRAWAL: i64 = 60;

/// One step of the workload, framework-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Open the account.
    Open,
    /// Deposit this amount.
    Deposit(i64),
    /// Withdraw this amount.
    Withdraw(i64),
}

/// The sizes of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// How many accounts are opened first (A).
    pub accounts: usize,
    /// How many deposits and withdrawals follow (N).
    pub commands: usize,
}

impl Workload {
    /// A workload of `accounts` accounts and `commands` commands after the opens.
    pub const fn new(accounts: usize, commands: usize) -> Self {
        Self { accounts, commands }
    }

    /// Everything executed: the opens and the commands (each stores one event).
    pub fn total_commands(&self) -> usize {
        self.accounts + self.commands
    }

    /// The id of account `index`.
    pub fn account_id(index: usize) -> String {
        format!("acct-{index:06}")
    }

    /// The ids of all accounts, index order.
    pub fn account_ids(&self) -> Vec<String> {
        (0..self.accounts).map(Self::account_id).collect()
    }

    /// The command `i` (0-based, after the opens): its account and what it does.
    pub fn command(&self, i: usize) -> (usize, Op) {
        let account = i % self.accounts;
        let op = if (i / self.accounts).is_multiple_of(2) {
            Op::Deposit(DEPOSIT)
        } else {
            Op::Withdraw(WITHDRAWAL)
        };
        (account, op)
    }

    /// Every step in order: the opens, then the commands.
    pub fn ops(&self) -> impl Iterator<Item = (usize, Op)> + '_ {
        (0..self.accounts)
            .map(|account| (account, Op::Open))
            .chain((0..self.commands).map(|i| self.command(i)))
    }

    /// The steps that touch accounts `index % clients == client`, in order: one client's share
    /// when `clients` clients work on disjoint accounts.
    pub fn ops_of_client(
        &self,
        client: usize,
        clients: usize,
    ) -> impl Iterator<Item = (usize, Op)> + '_ {
        self.ops()
            .filter(move |(account, _)| account % clients == client)
    }

    /// How many commands (after the open) account `index` receives.
    pub fn commands_on(&self, index: usize) -> usize {
        if index >= self.commands {
            0
        } else {
            (self.commands - index).div_ceil(self.accounts)
        }
    }

    /// The balance account `index` must end with.
    pub fn expected_balance(&self, index: usize) -> i64 {
        let received = self.commands_on(index);
        let deposits = received.div_ceil(2) as i64;
        let withdrawals = (received / 2) as i64;
        deposits * DEPOSIT - withdrawals * WITHDRAWAL
    }

    /// Panics, naming the framework and the account, unless `balance_of(index)` is the expected
    /// balance of every account.
    pub fn verify(&self, framework: &str, mut balance_of: impl FnMut(usize) -> i64) {
        for index in 0..self.accounts {
            let (actual, expected) = (balance_of(index), self.expected_balance(index));
            assert_eq!(
                actual,
                expected,
                "{framework}: account {} ends with balance {actual}, expected {expected} \
                 ({} accounts, {} commands)",
                Self::account_id(index),
                self.accounts,
                self.commands,
            );
        }
    }
}
