//! Typed subscriptions on every store: an aggregate's events decoded straight from what the
//! store holds, only that aggregate's, in global order; an event the code cannot decode is
//! reported at its position after the events before it, and skipped past on request.

use aggregato::NewEvent;
use aggregato::prelude::*;
use aggregato::subscription::Subscription;
use aggregato::testing::conformance::sample_event;
use aggregato_examples::bank::*;

mod support;

/// Opens two accounts with a deposit each, with events of another aggregate type between
/// them, then plants a `BankAccount` event of a type the code does not know and one more
/// deposit. Returns the positions of the planted event and the last deposit.
async fn bank_history<S: EventStore + Clone>(store: &S) -> (u64, u64) {
    let accounts: Repository<BankAccount, _> =
        Repository::new_with_services(store.clone(), BankServices::default());
    for name in ["ann", "bob"] {
        let id = AccountId(name.to_owned());
        let open = OpenAccount {
            account_id: id.clone(),
            owner: name.to_owned(),
        };
        accounts.execute(&id, open).await.expect("open");
        store
            .append("other-1", ExpectedVersion::Any, vec![sample_event(1)])
            .await
            .expect("an event of another aggregate type");
        accounts
            .execute(&id, DepositMoney { amount: 10 })
            .await
            .expect("deposit");
    }
    let ann = AccountId("ann".to_owned());
    let planted = NewEvent {
        aggregate_type: "BankAccount".to_owned(),
        event_type: "InterestPaid".to_owned(),
        ..sample_event(0)
    };
    let stream = <BankAccount as Aggregate>::stream_id(&ann);
    let planted = store
        .append(&stream, ExpectedVersion::Any, vec![planted])
        .await
        .expect("plant an event the code does not know");
    let last = accounts
        .execute(&AccountId("bob".to_owned()), DepositMoney { amount: 5 })
        .await
        .expect("deposit after it");
    (planted[0].position, last[0].position)
}

async fn a_typed_subscription_decodes_one_aggregate_and_reports_what_it_cannot<S>(store: S)
where
    S: EventStore + Clone + 'static,
{
    let (planted, last) = bank_history(&store).await;
    let mut subscription =
        Subscription::<_, BankAccountEvent>::of_aggregate::<BankAccount>(store.clone(), 0)
            .with_batch_size(2);
    let mut before = Vec::new();
    for _ in 0..4 {
        before.push(subscription.next().await.expect("the events before it"));
    }
    let described: Vec<_> = before
        .iter()
        .map(|event| (event.stream_id.as_str(), &event.payload))
        .collect();
    assert_eq!(
        described,
        [
            (
                "BankAccount-ann",
                &AccountOpened {
                    account_id: AccountId("ann".to_owned()),
                    owner: "ann".to_owned()
                }
                .into()
            ),
            (
                "BankAccount-ann",
                &MoneyDeposited {
                    amount: 10,
                    balance: 10
                }
                .into()
            ),
            (
                "BankAccount-bob",
                &AccountOpened {
                    account_id: AccountId("bob".to_owned()),
                    owner: "bob".to_owned()
                }
                .into()
            ),
            (
                "BankAccount-bob",
                &MoneyDeposited {
                    amount: 10,
                    balance: 10
                }
                .into()
            ),
        ],
        "the aggregate's events only, typed, in global order"
    );
    assert!(
        before
            .windows(2)
            .all(|pair| pair[0].position < pair[1].position)
    );
    match subscription.next().await {
        Err(StoreError::Corrupt {
            position: Some(position),
            reason: aggregato::store::CorruptionReason::Decode(_),
            ..
        }) => assert_eq!(position, planted),
        other => panic!("expected the unknown event reported at {planted}, got {other:?}"),
    }
    subscription.skip_past(planted);
    let after = subscription.next().await.expect("the event after it");
    assert_eq!(after.position, last);
    assert_eq!(
        after.payload,
        MoneyDeposited {
            amount: 5,
            balance: 15
        }
        .into()
    );
    assert_eq!(subscription.position(), last);

    // The same subscription read raw, then turned typed midway, agrees.
    let mut raw = Subscription::new(store.clone(), 0)
        .with_filter(EventFilter::all().aggregate_types(["BankAccount"]));
    let first = raw.next().await.expect("first raw event");
    assert_eq!(first.payload["owner"], "ann");
    let mut typed = raw.decoding::<BankAccountEvent>();
    assert_eq!(typed.position(), first.position);
    let second = typed.next().await.expect("second, typed");
    assert_eq!(second.event_id, before[1].event_id);
    assert_eq!(second.payload, before[1].payload);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_subscriptions_on_every_store() {
    on_every_store!(a_typed_subscription_decodes_one_aggregate_and_reports_what_it_cannot);
}
