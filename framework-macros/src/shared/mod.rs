//! What several derives use, so that no derive reaches into another's folder: the path every
//! derive takes (`derive`), reading attributes (`attribute`), lists of types (`type_list`), the event and command enums with
//! their encoding and checks (`message_sets`, `event_set`, `command_checks`), the rules and
//! messages every derive shares (`diagnostics`, `rules`), paths into the runtime (`paths`),
//! where clauses (`bounds`), spans (`respan`), attribute values with our messages (`values`)
//! and the `const _` wrapper (`dummy`).
//!
//! Not for what one derive alone needs: that stays in the derive's folder.

pub(crate) mod attribute;
pub(crate) mod bounds;
pub(crate) mod command_checks;
pub(crate) mod derive;
pub(crate) mod diagnostics;
pub(crate) mod dummy;
pub(crate) mod event_set;
pub(crate) mod message_sets;
pub(crate) mod paths;
pub(crate) mod respan;
pub(crate) mod rules;
pub(crate) mod type_list;
pub(crate) mod values;
