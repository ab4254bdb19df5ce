//! The rules of `#[event(...)]` that darling cannot express.

use darling::util::SpannedValue;

use super::model::{DomainEvent, EventInput};
use crate::paths::runtime_crate;
use crate::validate::error_at;

/// Checks the stored name and the version, reporting every mistake at once.
pub(super) fn validate(input: EventInput) -> darling::Result<DomainEvent> {
    let mut errors = darling::Error::accumulator();
    if let Some(name) = &input.name {
        errors.handle(crate::validate::stored_name(
            name,
            "event",
            "MoneyDeposited",
        ));
    }
    if let Some(version) = &input.version {
        errors.handle(version_is_positive(*version));
    }
    errors.finish_with(DomainEvent {
        krate: runtime_crate(input.krate),
        name: input
            .name
            .map_or_else(|| input.ident.to_string(), SpannedValue::into_inner),
        version: input.version.map_or(1, SpannedValue::into_inner),
        ident: input.ident,
        generics: input.generics,
    })
}

fn version_is_positive(version: SpannedValue<u32>) -> darling::Result<()> {
    if *version == 0 {
        return Err(error_at(
            version.span(),
            "event versions start at 1: use `version = 1` for the first schema of an event",
        ));
    }
    Ok(())
}
