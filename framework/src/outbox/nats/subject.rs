//! Subjects: where a message is published.

use std::sync::Arc;

use crate::outbox::OutgoingMessage;

/// Chooses the subject of a message (see [`NatsBroker::with_router`](super::NatsBroker::with_router)).
pub(super) type Router = Arc<dyn Fn(&OutgoingMessage) -> String + Send + Sync + 'static>;

/// The default subject: `<prefix>.<aggregate type>.<event type>`, each name made one subject
/// token (see [`subject_token`]).
pub(super) fn default_subject(prefix: &str, message: &OutgoingMessage) -> String {
    format!(
        "{prefix}.{}.{}",
        subject_token(&message.aggregate_type),
        subject_token(&message.event_type)
    )
}

/// A routed message's subject: `<prefix>.<route>`. The route's dots separate subject tokens,
/// so a consumer can filter on `<prefix>.payments.*`; `#[event(route)]` admits no wildcard,
/// whitespace or empty token.
pub(super) fn routed_subject(prefix: &str, route: &str) -> String {
    format!("{prefix}.{route}")
}

/// `name` as one NATS subject token: the token separator `.`, the wildcards `*` and `>`, and
/// whitespace (none of which a published subject may hold inside a token) become `_`, and an
/// empty name becomes `_`. So a consumer can always filter on `<prefix>.<aggregate>.*`.
pub fn subject_token(name: &str) -> String {
    if name.is_empty() {
        return "_".to_owned();
    }
    name.chars()
        .map(|c| match c {
            '.' | '*' | '>' => '_',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_single_tokens() {
        assert_eq!(subject_token("BankAccount"), "BankAccount");
        assert_eq!(subject_token("bank.Account Opened"), "bank_Account_Opened");
        assert_eq!(subject_token("a*b>c\td"), "a_b_c_d");
        assert_eq!(subject_token(""), "_");
    }

    #[test]
    fn a_route_follows_the_prefix_with_its_dots_kept() {
        assert_eq!(
            routed_subject("acme.orders", "payments.settled"),
            "acme.orders.payments.settled"
        );
    }
}
