//! Topics: where a message is published.

use std::sync::Arc;

use crate::outbox::OutgoingMessage;

/// Chooses the topic of a message (see [`KafkaBroker::with_topics`](super::KafkaBroker::with_topics)).
pub(super) type Router = Arc<dyn Fn(&OutgoingMessage) -> String + Send + Sync + 'static>;

/// The longest topic name Kafka accepts.
const MAX_TOPIC_LEN: usize = 249;

/// The default topic: `<prefix>.<aggregate type>`, the aggregate type made a legal topic name
/// part (see [`topic_name`]).
pub(super) fn default_topic(prefix: &str, message: &OutgoingMessage) -> String {
    topic_name(&format!("{prefix}.{}", message.aggregate_type))
}

/// `name` as a legal Kafka topic name: characters other than ASCII letters, digits, `.`, `_`
/// and `-` become `_`, an empty name (or one of `.` or `..`, which Kafka refuses) becomes
/// `_`, and a name longer than Kafka's 249 characters is cut there.
pub fn topic_name(name: &str) -> String {
    if name.is_empty() || name == "." || name == ".." {
        return "_".to_owned();
    }
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .take(MAX_TOPIC_LEN)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_legal_topics() {
        assert_eq!(topic_name("bank.BankAccount"), "bank.BankAccount");
        assert_eq!(topic_name("bank.Bank Account/ü"), "bank.Bank_Account__");
        assert_eq!(topic_name(""), "_");
        assert_eq!(topic_name(".."), "_");
        assert_eq!(topic_name(&"a".repeat(300)).len(), 249);
    }
}
