//! [`EventFilter`]: which events a read of the global log returns, by aggregate type and
//! event type. The stores apply it where the events are (in SQL, or on the in-memory store's
//! interned kinds), so a consumer of a few types never decodes the rest of the log.
//!
//! It is not a query language: no conditions on payloads or metadata, no streams by name
//! (read a stream with [`EventStore::read_stream`](super::EventStore::read_stream)).

/// Which events [`EventStore::read_all_filtered`](super::EventStore::read_all_filtered) and a
/// [`Subscription`](crate::subscription::Subscription) return.
///
/// The default filter lets every event through. Each list narrows it: an event passes when its
/// aggregate type is listed (or no aggregate type list was given) and its event type is
/// listed (or no event type list was given). An empty list lets nothing through.
///
/// ```
/// use aggregato::EventFilter;
///
/// let deposits = EventFilter::all()
///     .aggregate_types(["BankAccount"])
///     .event_types(["MoneyDeposited", "MoneyWithdrawn"]);
/// assert!(deposits.matches("BankAccount", "MoneyDeposited"));
/// assert!(!deposits.matches("BankAccount", "AccountOpened"));
/// assert!(!deposits.matches("Shop", "MoneyDeposited"));
/// assert!(EventFilter::all().matches("Shop", "OrderPlaced"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    aggregate_types: Option<Vec<String>>,
    event_types: Option<Vec<String>>,
}

impl EventFilter {
    /// The filter that lets every event through (the default).
    pub fn all() -> Self {
        Self::default()
    }

    /// Lets through only events of these aggregate types (as stored: the aggregate's
    /// `AGGREGATE_TYPE`, a saga's `SAGA_TYPE`). Called again, it adds to the list.
    #[must_use]
    pub fn aggregate_types<I>(mut self, types: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        extend(&mut self.aggregate_types, types);
        self
    }

    /// Lets through only events of these event types (their stored names). Called again, it
    /// adds to the list.
    #[must_use]
    pub fn event_types<I>(mut self, types: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        extend(&mut self.event_types, types);
        self
    }

    /// The aggregate types let through; `None`: any.
    pub fn allowed_aggregate_types(&self) -> Option<&[String]> {
        self.aggregate_types.as_deref()
    }

    /// The event types let through; `None`: any.
    pub fn allowed_event_types(&self) -> Option<&[String]> {
        self.event_types.as_deref()
    }

    /// Whether this filter lets every event through.
    pub fn is_all(&self) -> bool {
        self.aggregate_types.is_none() && self.event_types.is_none()
    }

    /// Whether no event can pass (an empty list was given), so a store need not look.
    pub fn is_none(&self) -> bool {
        let empty = |list: &Option<Vec<String>>| list.as_ref().is_some_and(Vec::is_empty);
        empty(&self.aggregate_types) || empty(&self.event_types)
    }

    /// Whether an event of this aggregate type and event type passes.
    pub fn matches(&self, aggregate_type: &str, event_type: &str) -> bool {
        allows(&self.aggregate_types, aggregate_type) && allows(&self.event_types, event_type)
    }
}

fn extend<I>(list: &mut Option<Vec<String>>, types: I)
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    list.get_or_insert_with(Vec::new)
        .extend(types.into_iter().map(Into::into));
}

fn allows(list: &Option<Vec<String>>, name: &str) -> bool {
    list.as_ref()
        .is_none_or(|names| names.iter().any(|listed| listed == name))
}

#[cfg(test)]
mod tests {
    use super::EventFilter;

    #[test]
    fn lists_narrow_and_add_up() {
        let filter = EventFilter::all()
            .aggregate_types(["A"])
            .aggregate_types([String::from("B")]);
        assert!(filter.matches("A", "x") && filter.matches("B", "y"));
        assert!(!filter.matches("C", "x"));
        assert!(!filter.is_all() && !filter.is_none());
    }

    #[test]
    fn an_empty_list_lets_nothing_through() {
        let filter = EventFilter::all().event_types(Vec::<String>::new());
        assert!(filter.is_none());
        assert!(!filter.matches("A", "x"));
        assert!(EventFilter::all().is_all());
    }
}
