//! Given/when/then tests of the bank account's decisions, through the generated dispatch.

use aggregato::prelude::*;
use aggregato_examples::bank::*;

fn opened() -> AccountOpened {
    AccountOpened {
        account_id: AccountId("acc".to_owned()),
        owner: "alice".to_owned(),
    }
}

/// The history of an account opened and credited once with `balance`.
fn funded(balance: u64) -> [BankAccountEvent; 2] {
    [
        opened().into(),
        MoneyDeposited {
            amount: balance,
            balance,
        }
        .into(),
    ]
}

fn fixture() -> AggregateFixture<BankAccount> {
    AggregateFixture::new_with_services(BankServices::default())
}

#[tokio::test]
async fn open_emits_account_opened() {
    let state = fixture()
        .when(OpenAccount {
            account_id: AccountId("acc".to_owned()),
            owner: "alice".to_owned(),
        })
        .then_events([opened()])
        .await;
    assert!(state.is_open());
}

#[tokio::test]
async fn a_second_open_is_rejected() {
    fixture()
        .given([opened()])
        .when(OpenAccount {
            account_id: AccountId("acc".to_owned()),
            owner: "bob".to_owned(),
        })
        .then_error(BankError::AlreadyOpen)
        .await;
}

#[tokio::test]
async fn deposit_before_open_is_rejected() {
    fixture()
        .when(DepositMoney { amount: 5 })
        .then_error(BankError::NotOpen)
        .await;
}

#[tokio::test]
async fn deposit_records_the_new_balance() {
    let state = fixture()
        .given(funded(10))
        .when(DepositMoney { amount: 5 })
        .then_events([MoneyDeposited {
            amount: 5,
            balance: 15,
        }])
        .await;
    assert_eq!(state.balance(), 15);
}

#[tokio::test]
async fn a_zero_amount_is_rejected() {
    fixture()
        .given([opened()])
        .when(DepositMoney { amount: 0 })
        .then_error(BankError::InvalidAmount)
        .await;
    fixture()
        .given([opened()])
        .when(WithdrawMoney { amount: 0 })
        .then_error(BankError::InvalidAmount)
        .await;
}

#[tokio::test]
async fn withdrawing_more_than_the_balance_is_insufficient_funds() {
    fixture()
        .given(funded(400))
        .when(WithdrawMoney { amount: 500 })
        .then_error(BankError::InsufficientFunds {
            balance: 400,
            requested: 500,
        })
        .await;
}

#[tokio::test]
async fn withdrawal_within_balance_and_risk_limit_succeeds() {
    let state = fixture()
        .given(funded(400))
        .when(WithdrawMoney { amount: 150 })
        .then_events([MoneyWithdrawn {
            amount: 150,
            balance: 250,
        }])
        .await;
    assert_eq!(state.balance(), 250);
}

#[tokio::test]
async fn the_risk_engine_blocks_a_flagged_owner() {
    let mut services = BankServices::default();
    services.risk.blocked_owners.insert("alice".to_owned());
    AggregateFixture::<BankAccount>::new_with_services(services)
        .given(funded(400))
        .when(WithdrawMoney { amount: 1 })
        .then_error(BankError::RiskRejected("owner alice is blocked".to_owned()))
        .await;
}

#[tokio::test]
async fn close_needs_a_zero_balance_and_ends_the_account() {
    fixture()
        .given(funded(1))
        .when(CloseAccount)
        .then_error(BankError::BalanceNotZero(1))
        .await;
    let state = fixture()
        .given([opened()])
        .when(CloseAccount)
        .then_events([AccountClosed])
        .await;
    assert!(!state.is_open());
    fixture()
        .given([BankAccountEvent::from(opened()), AccountClosed.into()])
        .when(DepositMoney { amount: 1 })
        .then_error(BankError::Closed)
        .await;
}

#[tokio::test]
async fn outcome_exposes_the_decision_without_asserting() {
    let (decided, state) = fixture()
        .given([opened()])
        .when(WithdrawMoney { amount: 1 })
        .outcome()
        .await;
    assert_eq!(
        decided,
        Err(BankError::InsufficientFunds {
            balance: 0,
            requested: 1
        })
    );
    assert_eq!(state.balance(), 0);
}

#[tokio::test]
#[should_panic(expected = "the command produced other events than expected")]
async fn a_wrong_expectation_fails_the_test() {
    fixture()
        .given([opened()])
        .when(DepositMoney { amount: 5 })
        .then_events([MoneyDeposited {
            amount: 5,
            balance: 6,
        }])
        .await;
}

#[tokio::test]
#[should_panic(expected = "but the command produced")]
async fn expecting_an_error_from_a_success_fails_the_test() {
    fixture()
        .given([opened()])
        .when(DepositMoney { amount: 5 })
        .then_error(BankError::NotOpen)
        .await;
}

mod no_op {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    pub struct Renamed {
        pub name: String,
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Profile)]
    pub struct Rename {
        pub name: String,
    }

    /// Renaming to the current name is accepted and changes nothing.
    #[derive(Debug, Default, Aggregate)]
    #[aggregate(id = String, events(Renamed), commands(Rename))]
    pub struct Profile {
        pub name: String,
    }

    impl Handle<Rename> for Profile {
        async fn handle(
            &self,
            command: Rename,
            _: &(),
        ) -> Result<Vec<ProfileEvent>, std::convert::Infallible> {
            if command.name == self.name {
                return Ok(vec![]);
            }
            Ok(vec![Renamed { name: command.name }.into()])
        }
    }

    impl Apply<Renamed> for Profile {
        fn apply(&mut self, event: &Renamed) {
            self.name.clone_from(&event.name);
        }
    }

    #[tokio::test]
    async fn a_command_that_changes_nothing_produces_no_event() {
        let state = AggregateFixture::<Profile>::new()
            .given([Renamed {
                name: "ada".to_owned(),
            }])
            .when(Rename {
                name: "ada".to_owned(),
            })
            .then_no_events()
            .await;
        assert_eq!(state.name, "ada");
    }

    #[tokio::test]
    #[should_panic(expected = "the command produced other events than expected")]
    async fn then_no_events_fails_when_an_event_is_produced() {
        AggregateFixture::<Profile>::new()
            .when(Rename {
                name: "ada".to_owned(),
            })
            .then_no_events()
            .await;
    }

    #[tokio::test]
    async fn the_repository_appends_nothing_for_a_no_op() {
        let repo = Repository::<Profile, _>::new(InMemoryEventStore::new());
        let id = "p1".to_owned();
        assert_eq!(
            repo.execute(
                &id,
                Rename {
                    name: "ada".to_owned()
                }
            )
            .await
            .expect("rename")
            .len(),
            1
        );
        assert!(
            repo.execute(
                &id,
                Rename {
                    name: "ada".to_owned()
                }
            )
            .await
            .expect("no-op")
            .is_empty()
        );
        assert_eq!(
            repo.store()
                .stream_version("Profile-p1")
                .await
                .expect("version"),
            1
        );
    }
}

/// Events that a store would not keep faithfully fail the fixture, not a production load.
mod lossy {
    use aggregato::prelude::*;
    use serde::{Deserialize, Serialize};

    /// `note` is not stored: it reads back empty.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    pub struct Noted {
        pub amount: u64,
        #[serde(skip)]
        pub note: String,
    }

    /// A float JSON cannot hold cannot be stored at all.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    pub struct Measured {
        pub value: f64,
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Sensor)]
    pub struct Note {
        pub note: String,
    }

    #[derive(Debug, Clone, Command)]
    #[command(aggregate = Sensor)]
    pub struct Measure {
        pub value: f64,
    }

    #[derive(Debug, Default, Aggregate)]
    #[aggregate(id = String, events(Noted, Measured), commands(Note, Measure))]
    pub struct Sensor {
        pub notes: Vec<String>,
        pub values: Vec<f64>,
    }

    impl Handle<Note> for Sensor {
        async fn handle(
            &self,
            command: Note,
            _: &(),
        ) -> Result<Vec<SensorEvent>, std::convert::Infallible> {
            Ok(vec![
                Noted {
                    amount: 1,
                    note: command.note,
                }
                .into(),
            ])
        }
    }

    impl Handle<Measure> for Sensor {
        async fn handle(
            &self,
            command: Measure,
            _: &(),
        ) -> Result<Vec<SensorEvent>, std::convert::Infallible> {
            Ok(vec![
                Measured {
                    value: command.value,
                }
                .into(),
            ])
        }
    }

    impl Apply<Noted> for Sensor {
        fn apply(&mut self, event: &Noted) {
            self.notes.push(event.note.clone());
        }
    }

    impl Apply<Measured> for Sensor {
        fn apply(&mut self, event: &Measured) {
            self.values.push(event.value);
        }
    }

    #[tokio::test]
    #[should_panic(expected = "does not survive being stored: it reads back as")]
    async fn an_event_that_loses_a_field_when_stored_fails_the_fixture() {
        AggregateFixture::<Sensor>::new()
            .when(Note {
                note: "calibrated".to_owned(),
            })
            .then_events([Noted {
                amount: 1,
                note: "calibrated".to_owned(),
            }])
            .await;
    }

    #[tokio::test]
    async fn the_state_a_fixture_returns_is_the_one_a_load_builds() {
        let (decided, state) = AggregateFixture::<Sensor>::new()
            .when(Note {
                note: "calibrated".to_owned(),
            })
            .outcome()
            .await;
        assert_eq!(decided.map(|events| events.len()), Ok(1));
        assert_eq!(
            state.notes,
            [String::new()],
            "evolved by the event as read back, not as decided"
        );
    }

    #[tokio::test]
    #[should_panic(expected = "cannot be stored")]
    async fn an_event_holding_nan_fails_the_fixture() {
        let (_decided, _state) = AggregateFixture::<Sensor>::new()
            .when(Measure { value: f64::NAN })
            .outcome()
            .await;
    }

    #[tokio::test]
    async fn a_finite_float_round_trips_exactly() {
        let value = 0.1 + 0.2;
        let state = AggregateFixture::<Sensor>::new()
            .when(Measure { value })
            .then_events([Measured { value }])
            .await;
        assert_eq!(state.values[0].to_bits(), value.to_bits());
    }
}
