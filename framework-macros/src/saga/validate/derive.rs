//! The rules of `#[derive(Saga)]`: the struct's shape, no generics, a usable stored name; and
//! the saga's model.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::{Data, DeriveInput, Ident};

use crate::saga::model::{Saga, SagaOptions};
use crate::shared::dummy::local_crate;
use crate::shared::paths::{runtime_crate, stand_in_type, unit_type};
use crate::shared::rules::{Shape, not_generic, stored_name, stream_prefix, struct_fields};

/// Checks `#[derive(Saga)]`, reporting every mistake to `errors`, and builds the model.
pub(in crate::saga) fn saga(input: &DeriveInput, errors: &mut Accumulator) -> Saga {
    let ident = &input.ident;
    errors.handle(struct_fields(
        input,
        Shape::NamedOrUnit,
        "Saga",
        &format!(
            "hold the saga's data in named fields, such as `struct {ident} {{ order_id: String }}`"
        ),
    ));
    not_generic(errors, ident, &input.generics, &generic_saga(ident));
    let read = SagaOptions::parse(input, errors);
    let services_broken = read.is_broken("services");
    let options = read.options;
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "saga", "PlaceOrder"));
        errors.handle(stream_prefix(name, "saga"));
    }
    let krate = local_crate();
    let generics = &input.generics;
    Saga {
        runtime: runtime_crate(options.krate),
        type_name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        services: match options.services {
            Some(services) => services,
            None if services_broken => stand_in_type(&krate),
            None => unit_type(),
        },
        krate,
        ident: ident.clone(),
        stands_in: generics.params.is_empty()
            && generics.where_clause.is_none()
            && !matches!(input.data, Data::Union(_)),
    }
}

/// Why a saga cannot be generic, to start the message.
pub(super) fn generic_saga(ident: &Ident) -> String {
    format!(
        "sagas cannot be generic, since every instance is stored under the one name of `{ident}`"
    )
}
