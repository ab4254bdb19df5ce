//! The code `#[derive(Entity)]` generates from a validated [`Entity`].
//!
//! Calls that can fail to type-check because of what the user wrote (a validator, a field
//! type's `PartialEq` or `Default`, an added command's `Handle` impl) are spanned at what the
//! user wrote, so the error is reported there.

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

use super::model::{Entity, Field};
use crate::aggregate::expand::{EnumDocs, command_checks, message_sets};
use crate::aggregate::model::{Aggregate, Member};
use crate::validate::display_path;

/// Every item the derive generates.
pub(super) fn entity(model: &Entity) -> TokenStream {
    let sets = sets_model(model);
    let state = state_type(model);
    let ident = &model.ident;
    let items = [
        events(model),
        commands(model),
        message_sets(&sets, &enum_docs(model)),
        command_checks(
            &sets,
            &state,
            &format!("EntityState<{ident}>"),
            &format!("entity = {ident}"),
        ),
        entity_impl(model),
    ];
    quote!(#(#items)*)
}

/// `EntityState<Struct>`, the aggregate.
fn state_type(model: &Entity) -> TokenStream {
    let Entity { krate, ident, .. } = model;
    quote!(#krate::entity::EntityState<#ident>)
}

/// `EntityError<Error>`, the aggregate's error.
fn error_type(model: &Entity) -> TokenStream {
    let Entity { krate, error, .. } = model;
    quote!(#krate::entity::EntityError<#error>)
}

/// The entity as an aggregate model, for the enums the aggregate derive generates.
pub(super) fn sets_model(model: &Entity) -> Aggregate {
    let members = |generated: [&Ident; 3], extra: &[Member]| -> Vec<Member> {
        let generated = generated.into_iter().map(|name| Member {
            ty: Path::from(name.clone()),
            variant: name.clone(),
        });
        let extra = extra.iter().map(|member| Member {
            ty: member.ty.clone(),
            variant: member.variant.clone(),
        });
        generated.chain(extra).collect()
    };
    Aggregate {
        krate: model.krate.clone(),
        vis: model.vis.clone(),
        ident: model.ident.clone(),
        type_name: model.type_name.clone(),
        id: model
            .id()
            .map_or_else(crate::paths::unit_type, |id| id.ty.clone()),
        error: model.error.clone(),
        services: model.services.clone(),
        event_enum: model.names.event_enum.clone(),
        command_enum: model.names.command_enum.clone(),
        events: members(model.names.events(), &model.extra_events),
        commands: members(model.names.commands(), &model.extra_commands),
    }
}

/// The doc comments of the event and command enums.
pub(super) fn enum_docs(model: &Entity) -> EnumDocs {
    let Entity { ident, names, .. } = model;
    let list = |generated: [&Ident; 3], key: &str| {
        format!(
            "`{}`, `{}` and `{}`, then the types listed in its `{key}(...)`",
            generated[0], generated[1], generated[2]
        )
    };
    EnumDocs {
        events: format!(
            "The events of the entity `{ident}`: {}.\n\n\
             Serializes as `{{\"type\": name, \"version\": n, \"data\": payload}}`.",
            list(names.events(), "events")
        ),
        commands: format!(
            "The commands of the entity `{ident}`: {}.",
            list(names.commands(), "commands")
        ),
    }
}

/// How a generated message holds the entity's fields.
enum Shape<'a> {
    /// Each field as it is.
    Full(Vec<&'a Field>),
    /// Each field as an `Option`: a patch.
    Patch(Vec<&'a Field>),
    /// No fields.
    Unit,
}

impl Shape<'_> {
    fn fields(&self) -> &[&Field] {
        match self {
            Self::Full(fields) | Self::Patch(fields) => fields,
            Self::Unit => &[],
        }
    }
}

/// One generated event or command: the struct, its serde derives and a `PartialEq` impl that
/// exists when every field type is `PartialEq`.
fn message(
    model: &Entity,
    name: &Ident,
    doc: &str,
    shape: &Shape<'_>,
    field_doc: impl Fn(&Ident) -> String,
) -> TokenStream {
    let Entity { krate, vis, .. } = model;
    let serde = quote!(#krate::__private::serde);
    let serde_crate = format!("{}::__private::serde", display_path(krate));
    let default = match shape {
        Shape::Patch(_) | Shape::Unit => Some(quote!(::core::default::Default,)),
        Shape::Full(_) => None,
    };
    let body = match shape {
        Shape::Unit => quote!(;),
        Shape::Full(fields) => {
            let fields = fields.iter().map(|Field { ident, ty, .. }| {
                let doc = field_doc(ident);
                quote!(#[doc = #doc] pub #ident: #ty)
            });
            quote!({ #(#fields,)* })
        }
        Shape::Patch(fields) => {
            let deserialize_with = format!(
                "{}::__private::deserialize_patch_field",
                display_path(krate)
            );
            let fields = fields.iter().map(|Field { ident, ty, .. }| {
                let doc = field_doc(ident);
                quote! {
                    #[doc = #doc]
                    #[serde(
                        default,
                        skip_serializing_if = "::core::option::Option::is_none",
                        deserialize_with = #deserialize_with
                    )]
                    pub #ident: ::core::option::Option<#ty>
                }
            });
            quote!({ #(#fields,)* })
        }
    };
    let partial_eq = partial_eq(name, shape);
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, #default #serde::Serialize, #serde::Deserialize)]
        #[serde(crate = #serde_crate)]
        #vis struct #name #body

        #partial_eq
    }
}

/// `PartialEq` field by field. The `for<'__a>` binder makes each bound non-trivial, so the
/// impl exists only when every field type is `PartialEq`, instead of being an error when one
/// is not: only the fields an update compares need it.
fn partial_eq(name: &Ident, shape: &Shape<'_>) -> TokenStream {
    let fields = shape.fields();
    let bounds = fields.iter().map(|Field { ty, .. }| ty);
    let comparisons = fields
        .iter()
        .map(|Field { ident, .. }| quote!(self.#ident == __other.#ident));
    quote! {
        #[automatically_derived]
        impl ::core::cmp::PartialEq for #name
        where
            #(for<'__a> #bounds: ::core::cmp::PartialEq,)*
        {
            fn eq(&self, __other: &Self) -> bool {
                let _ = __other;
                true #(&& #comparisons)*
            }
        }
    }
}

/// The three generated events and their `DomainEvent` impls.
pub(super) fn events(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        ident,
        type_name,
        version,
        names,
        ..
    } = model;
    let created = message(
        model,
        &names.created,
        &format!("A `{ident}` was created, with every stored field."),
        &Shape::Full(model.stored().collect()),
        |field| format!("The `{field}` of the new `{ident}`."),
    );
    let updated = message(
        model,
        &names.updated,
        &format!("A `{ident}` was updated: the fields that changed, `None` for the others."),
        &Shape::Patch(model.updatable().collect()),
        |field| format!("The new `{field}`, or `None` when it did not change."),
    );
    let deleted = message(
        model,
        &names.deleted,
        &format!("A `{ident}` was deleted."),
        &Shape::Unit,
        |_| String::new(),
    );
    let version = Literal::u32_unsuffixed(*version);
    let impls = [
        (&names.created, "Created"),
        (&names.updated, "Updated"),
        (&names.deleted, "Deleted"),
    ]
    .map(|(event, suffix)| {
        let stored = format!("{type_name}{suffix}");
        quote! {
            #[automatically_derived]
            impl #krate::DomainEvent for #event {
                const EVENT_TYPE: &'static str = #stored;
                const EVENT_VERSION: u32 = #version;
            }
        }
    });
    quote! {
        #created
        #updated
        #deleted
        #(#impls)*
    }
}

/// The three generated commands and their `Command` impls.
pub(super) fn commands(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        ident,
        names,
        ..
    } = model;
    let create = message(
        model,
        &names.create,
        &format!(
            "Creates a `{ident}`, unless one with this id exists or was deleted. Execute it on \
             the id it carries: the repository refuses to store it in another id's stream."
        ),
        &Shape::Full(model.stored().collect()),
        |field| format!("The `{field}` of the `{ident}` to create."),
    );
    let update = message(
        model,
        &names.update,
        &format!(
            "Updates a live `{ident}`: each `Some` field replaces the current value. An update \
             that changes nothing records nothing."
        ),
        &Shape::Patch(model.updatable().collect()),
        |field| format!("The new `{field}`, or `None` to keep the current one."),
    );
    let delete = message(
        model,
        &names.delete,
        &format!("Deletes a live `{ident}`; nothing happens to it afterwards."),
        &Shape::Unit,
        |_| String::new(),
    );
    let state = state_type(model);
    let impls = names.commands().map(|command| {
        let name = command.to_string();
        quote! {
            #[automatically_derived]
            impl #krate::Command for #command {
                type Aggregate = #state;
                const COMMAND_TYPE: &'static str = #name;
            }
        }
    });
    quote! {
        #create
        #update
        #delete
        #(#impls)*
    }
}

fn entity_impl(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        ident,
        type_name,
        services,
        error,
        names,
        ..
    } = model;
    let state = state_type(model);
    let outcome = outcome_type(model);
    let id = model.id().map(|id| &id.ty);
    let id_field = model.id().map(|id| &id.ident);
    let event_enum = &names.event_enum;
    let command_enum = &names.command_enum;
    let (create, update, delete) = (&names.create, &names.update, &names.delete);
    let (created, updated, deleted) = (&names.created, &names.updated, &names.deleted);
    let handle_extra = model.extra_commands.iter().map(|Member { ty, variant }| {
        // Every token at the listed type, `.await` and the state type included: a missing
        // handler is then one error there rather than a second one at the derive.
        let state = respan(state.clone(), ty.span());
        let handle = quote_spanned! {ty.span()=>
            <#state as #krate::Handle<#ty>>::handle(__state, __command, __services).await
        };
        quote!(#command_enum::#variant(__command) => #handle)
    });
    let apply_extra = model.extra_events.iter().map(|Member { ty, variant }| {
        let state = respan(state.clone(), ty.span());
        let apply = quote_spanned!(ty.span()=> <#state as #krate::Apply<#ty>>::apply);
        quote!(#event_enum::#variant(__event) => #apply(__state, __event))
    });
    let helpers = [
        create_fn(model),
        update_fn(model),
        delete_fn(model),
        from_created_fn(model),
        patch_fn(model),
    ];
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #krate::entity::Entity for #ident {
                const ENTITY_TYPE: &'static str = #type_name;
                type Id = #id;
                type Event = #event_enum;
                type Command = #command_enum;
                type Error = #error;
                type Services = #services;

                fn handle(
                    __state: &#state,
                    __command: #command_enum,
                    __services: &#services,
                ) -> impl ::core::future::Future<Output = #outcome> + ::core::marker::Send {
                    async move {
                        match __command {
                            #command_enum::#create(__command) => __create(__state, __command),
                            #command_enum::#update(__command) => __update(__state, __command),
                            #command_enum::#delete(__command) => __delete(__state, __command),
                            #(#handle_extra,)*
                        }
                    }
                }

                fn apply(__state: &mut #state, __event: &#event_enum) {
                    match __event {
                        #event_enum::#created(__event) => {
                            *__state = #krate::entity::EntityState::Live(__from_created(__event));
                        }
                        #event_enum::#updated(__event) => {
                            if let ::core::option::Option::Some(__entity) = __state.get_mut() {
                                __patch(__entity, __event);
                            }
                        }
                        #event_enum::#deleted(_) => #krate::__private::delete_entity(__state),
                        #(#apply_extra,)*
                    }
                }

                fn event_instance(__event: &#event_enum) -> ::core::option::Option<&#id> {
                    match __event {
                        #event_enum::#created(__event) => {
                            ::core::option::Option::Some(&__event.#id_field)
                        }
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #(#helpers)*
        };
    }
}

/// `tokens`, every one of them spanned at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}

/// What a handler returns: the events, or why the command was rejected.
fn outcome_type(model: &Entity) -> TokenStream {
    let error = error_type(model);
    let event_enum = &model.names.event_enum;
    quote!(::core::result::Result<::std::vec::Vec<#event_enum>, #error>)
}

/// `validator(value)?`, spanned at the validator so that a wrong signature or error type is
/// reported there. A direct call, so that a validator of a `String` field may take `&str`.
fn run_validator(model: &Entity, validator: &Path, value: TokenStream) -> TokenStream {
    let Entity { krate, error, .. } = model;
    quote_spanned! {validator.span()=>
        #krate::__private::rejects::<#error>(#validator(#value))?;
    }
}

fn create_fn(model: &Entity) -> TokenStream {
    let Entity { names, error, .. } = model;
    let state = state_type(model);
    let outcome = outcome_type(model);
    let (create, created) = (&names.create, &names.created);
    let field_checks = model.stored().filter_map(|field| {
        let path = field.validate.as_ref()?;
        let name = &field.ident;
        Some(run_validator(model, path, quote!(&__command.#name)))
    });
    let own_check = model
        .validate
        .as_ref()
        .map(|path| run_validator(model, path, quote!(&__from_created(&__created))));
    let moved = model.stored().map(|Field { ident, .. }| ident);
    quote! {
        fn __create(__state: &#state, __command: #create) -> #outcome {
            __state.absent::<#error>()?;
            #(#field_checks)*
            let __created = #created { #(#moved: __command.#moved,)* };
            #own_check
            ::core::result::Result::Ok(::std::vec![::core::convert::From::from(__created)])
        }
    }
}

fn update_fn(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        ident,
        names,
        error,
        ..
    } = model;
    let state = state_type(model);
    let outcome = outcome_type(model);
    let (update, updated) = (&names.update, &names.updated);
    let updatable: Vec<&Field> = model.updatable().collect();
    let field_checks = updatable.iter().filter_map(|field| {
        let path = field.validate.as_ref()?;
        let name = &field.ident;
        let check = run_validator(model, path, quote!(__value));
        Some(quote! {
            if let ::core::option::Option::Some(__value) = &__command.#name {
                #check
            }
        })
    });
    let changes = updatable.iter().map(|Field { ident, ty, .. }| {
        let differs = quote_spanned!(ty.span()=> #krate::__private::differs::<#ty>);
        quote! {
            #ident: __command
                .#ident
                .filter(|__value| #differs(__value, &__current.#ident))
        }
    });
    let own_check = model.validate.as_ref().map(|path| {
        let would_be = quote_spanned!(path.span()=> #krate::__private::would_be::<#ident>);
        let check = run_validator(model, path, quote!(&__would_be));
        quote! {
            let mut __would_be = #would_be(__current);
            __patch(&mut __would_be, &__updated);
            #check
        }
    });
    let unchanged = if updatable.is_empty() {
        quote!(true)
    } else {
        let idents = updatable.iter().map(|field| &field.ident);
        quote!(#(__updated.#idents.is_none())&&*)
    };
    quote! {
        fn __update(__state: &#state, __command: #update) -> #outcome {
            let __current = __state.live::<#error>()?;
            #(#field_checks)*
            let __updated = #updated { #(#changes,)* };
            #own_check
            let __unchanged = #unchanged;
            if __unchanged {
                return ::core::result::Result::Ok(::std::vec::Vec::new());
            }
            ::core::result::Result::Ok(::std::vec![::core::convert::From::from(__updated)])
        }
    }
}

fn delete_fn(model: &Entity) -> TokenStream {
    let Entity { error, names, .. } = model;
    let state = state_type(model);
    let outcome = outcome_type(model);
    let (delete, deleted) = (&names.delete, &names.deleted);
    quote! {
        fn __delete(__state: &#state, _: #delete) -> #outcome {
            __state.live::<#error>()?;
            ::core::result::Result::Ok(::std::vec![::core::convert::From::from(#deleted)])
        }
    }
}

/// The entity a created event describes; skipped fields start at their type's `Default`.
fn from_created_fn(model: &Entity) -> TokenStream {
    let Entity { ident, names, .. } = model;
    let created = &names.created;
    let stored = model.stored().map(|Field { ident, ty, .. }| {
        let clone = quote_spanned!(ty.span()=> <#ty as ::core::clone::Clone>::clone);
        quote!(#ident: #clone(&__event.#ident))
    });
    let skipped = model.skipped().map(|Field { ident, ty, .. }| {
        let default = quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default());
        quote!(#ident: #default)
    });
    quote! {
        fn __from_created(__event: &#created) -> #ident {
            #ident {
                #(#stored,)*
                #(#skipped,)*
            }
        }
    }
}

/// Applies an updated event: each field it carries replaces the current value.
fn patch_fn(model: &Entity) -> TokenStream {
    let Entity { ident, names, .. } = model;
    let updated = &names.updated;
    let assignments = model.updatable().map(|Field { ident, ty, .. }| {
        quote! {
            if let ::core::option::Option::Some(__value) = &__event.#ident {
                __entity.#ident = <#ty as ::core::clone::Clone>::clone(__value);
            }
        }
    });
    quote! {
        fn __patch(__entity: &mut #ident, __event: &#updated) {
            #(#assignments)*
        }
    }
}
