//! The `Entity` impl `#[derive(Entity)]` generates: the handler that enforces the lifecycle
//! (create once, nothing after delete, an update that changes nothing records nothing), the
//! validators, and apply.
//!
//! Calls that can fail to type-check because of what the user wrote (a validator, a field
//! type's `PartialEq` or `Default`, an added command's `Handle` impl) are spanned at what the
//! user wrote, so the error is reported there.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use super::model::{Entity, Field};
use crate::shared::respan::respan;
use crate::shared::type_list::Member;

/// `impl Entity`: the generated handler and apply, and their helpers.
pub(super) fn entity_impl(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        ident,
        services,
        names,
        ..
    } = model;
    let state = model.state_type();
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
        let state = respan(&state, ty.span());
        let handle = quote_spanned! {ty.span()=>
            <#state as #krate::Handle<#ty>>::handle(__state, __command, __services).await
        };
        quote!(#command_enum::#variant(__command) => #handle)
    });
    let apply_extra = model.extra_events.iter().map(|Member { ty, variant }| {
        let state = respan(&state, ty.span());
        let apply = quote_spanned!(ty.span()=> <#state as #krate::Apply<#ty>>::apply);
        quote!(#event_enum::#variant(__event) => #apply(__state, __event))
    });
    let associated = associated_items(model, &quote!(#id));
    let helpers = [
        create_fn(model),
        update_fn(model),
        delete_fn(model),
        from_created_fn(model),
        patch_fn(model),
    ];
    quote! {
        #[automatically_derived]
        impl #krate::entity::Entity for #ident {
            #associated

            fn decide(
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

            fn evolve(__state: &mut #state, __event: &#event_enum) {
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
    }
}

/// The constant and types of `impl Entity`, with the id type given: the id field's type, or
/// what stands in for it.
pub(super) fn associated_items(model: &Entity, id: &TokenStream) -> TokenStream {
    let Entity {
        type_name,
        error,
        services,
        names,
        ..
    } = model;
    let (event_enum, command_enum) = (&names.event_enum, &names.command_enum);
    quote! {
        const ENTITY_TYPE: &'static str = #type_name;
        type Id = #id;
        type Event = #event_enum;
        type Command = #command_enum;
        type Error = #error;
        type Services = #services;
    }
}

/// What a handler returns: the events, or why the command was rejected.
fn outcome_type(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        error,
        names,
        ..
    } = model;
    let event_enum = &names.event_enum;
    quote!(::core::result::Result<::std::vec::Vec<#event_enum>, #krate::entity::EntityError<#error>>)
}

/// `validator(value)?`, spanned at the validator so that a wrong signature or error type is
/// reported there. A direct call, so that a validator of a `String` field may take `&str`.
fn run_validator(model: &Entity, validator: &Path, value: TokenStream) -> TokenStream {
    let Entity { krate, error, .. } = model;
    quote_spanned! {validator.span()=>
        #krate::checks::rejects::<#error>(#validator(#value))?;
    }
}

fn create_fn(model: &Entity) -> TokenStream {
    let Entity { names, error, .. } = model;
    let state = model.state_type();
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
    let state = model.state_type();
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
        let differs = quote_spanned!(ty.span()=> #krate::checks::differs::<#ty>);
        quote! {
            #ident: __command
                .#ident
                .filter(|__value| #differs(__value, &__current.#ident))
        }
    });
    let own_check = model.validate.as_ref().map(|path| {
        let would_be = quote_spanned!(path.span()=> #krate::checks::would_be::<#ident>);
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
    let state = model.state_type();
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
    let Entity {
        krate,
        ident,
        names,
        ..
    } = model;
    let created = &names.created;
    let stored = model.stored().map(|Field { ident, ty, .. }| {
        let clone = quote_spanned! {ty.span()=>
            <#ty as #krate::checks::EntityField>::clone_field
        };
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
    let Entity {
        krate,
        ident,
        names,
        ..
    } = model;
    let updated = &names.updated;
    let assignments = model.updatable().map(|Field { ident, ty, .. }| {
        let clone = quote_spanned! {ty.span()=>
            <#ty as #krate::checks::EntityField>::clone_field
        };
        quote! {
            if let ::core::option::Option::Some(__value) = &__event.#ident {
                __entity.#ident = #clone(__value);
            }
        }
    });
    quote! {
        fn __patch(__entity: &mut #ident, __event: &#updated) {
            #(#assignments)*
        }
    }
}
