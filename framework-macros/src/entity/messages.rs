//! The events and commands `#[derive(Entity)]` generates from the fields: `{Struct}Created`,
//! `{Struct}Updated`, `{Struct}Deleted`, `Create{Struct}`, `Update{Struct}`, `Delete{Struct}`,
//! public structs the user names, and their impls, which go in the `const _`.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, LitStr, Path, Type};

use super::model::{Entity, Field};
use crate::shared::diagnostics::{display_path, display_tokens};

/// The six structs, which the user names: they go outside the `const _`.
pub(super) fn structs(model: &Entity) -> TokenStream {
    let (events, _) = events(model);
    let (commands, _) = commands(model);
    let items = events.iter().chain(&commands).map(|message| &message.item);
    quote!(#(#items)*)
}

/// Their impls: `Clone`, `Debug`, `PartialEq`, `DomainEvent` and `Command`, for the `const _`.
pub(super) fn impls(model: &Entity) -> TokenStream {
    let (events, event_impls) = events(model);
    let (commands, command_impls) = commands(model);
    let message_impls = events.iter().chain(&commands).map(|message| &message.impls);
    quote!(#(#message_impls)* #event_impls #command_impls)
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

/// One generated event or command: the struct with its serde derives, and its `Clone`,
/// `Debug` and `PartialEq` impls.
///
/// Every use of a field's `Clone`, `Debug` and serde impls goes through the runtime's
/// `checks::EntityField`, spanned at the field's type: a field type that lacks one is the same
/// error from each use, which the compiler reports once, at the field.
fn message(
    model: &Entity,
    name: &Ident,
    doc: &str,
    shape: &Shape<'_>,
    field_doc: impl Fn(&Ident) -> String,
) -> Message {
    let Entity { runtime, vis, .. } = model;
    let serde = quote!(#runtime::__private::serde);
    let serde_crate = format!("{}::__private::serde", display_path(runtime));
    // Serde's `serialize_with` and `deserialize_with` name functions by strings, which serde
    // respans to the string: spanned at the field's type, as the rest.
    let with = |ty: &Type, function: TokenStream| {
        let function = display_tokens(&function);
        LitStr::new(&function, ty.span())
    };
    let default = match shape {
        Shape::Patch(_) | Shape::Unit => Some(quote!(::core::default::Default,)),
        Shape::Full(_) => None,
    };
    let body = match shape {
        Shape::Unit => quote!(;),
        Shape::Full(fields) => {
            let fields = fields.iter().map(|Field { ident, ty, .. }| {
                let doc = field_doc(ident);
                let (ser, de) = (
                    with(ty, field_fn(runtime, ty, "serialize_field")),
                    with(ty, field_fn(runtime, ty, "deserialize_field")),
                );
                quote! {
                    #[doc = #doc]
                    #[serde(serialize_with = #ser, deserialize_with = #de)]
                    pub #ident: #ty
                }
            });
            quote!({ #(#fields,)* })
        }
        Shape::Patch(fields) => {
            let fields = fields.iter().map(|Field { ident, ty, .. }| {
                let doc = field_doc(ident);
                let (ser, de) = (
                    with(ty, field_fn(runtime, ty, "serialize_patch")),
                    with(ty, field_fn(runtime, ty, "deserialize_patch")),
                );
                quote! {
                    #[doc = #doc]
                    #[serde(
                        default,
                        skip_serializing_if = "::core::option::Option::is_none",
                        serialize_with = #ser,
                        deserialize_with = #de
                    )]
                    pub #ident: ::core::option::Option<#ty>
                }
            });
            quote!({ #(#fields,)* })
        }
    };
    let impls = [
        clone(model, name, shape),
        debug(model, name, shape),
        partial_eq(name, shape),
    ];
    Message {
        item: quote! {
            #[doc = #doc]
            #[derive(#default #serde::Serialize, #serde::Deserialize)]
            #[serde(crate = #serde_crate)]
            #vis struct #name #body
        },
        impls: quote!(#(#impls)*),
    }
}

/// A generated message: the public struct, and its impls for the `const _`.
struct Message {
    item: TokenStream,
    impls: TokenStream,
}

/// `<Field as EntityField>::function`, spanned at the field's type.
fn field_fn(krate: &Path, ty: &Type, function: &str) -> TokenStream {
    let function = Ident::new(function, ty.span());
    quote_spanned!(ty.span()=> <#ty as #krate::checks::EntityField>::#function)
}

/// The `EntityField` function that does `what` (`clone`, `debug`) to a field of `shape`.
fn shaped_fn(krate: &Path, shape: &Shape<'_>, ty: &Type, what: &str) -> TokenStream {
    let suffix = match shape {
        Shape::Patch(_) => "patch",
        Shape::Full(_) | Shape::Unit => "field",
    };
    field_fn(krate, ty, &format!("{what}_{suffix}"))
}

/// `Clone` field by field.
fn clone(model: &Entity, name: &Ident, shape: &Shape<'_>) -> TokenStream {
    let fields = shape.fields().iter().map(|Field { ident, ty, .. }| {
        let clone = shaped_fn(&model.krate, shape, ty, "clone");
        quote!(#ident: #clone(&self.#ident))
    });
    quote! {
        #[automatically_derived]
        impl ::core::clone::Clone for #name {
            fn clone(&self) -> Self {
                Self { #(#fields,)* }
            }
        }
    }
}

/// `Debug` field by field, as the derive writes it.
fn debug(model: &Entity, name: &Ident, shape: &Shape<'_>) -> TokenStream {
    let fields = shape.fields().iter().map(|Field { ident, ty, .. }| {
        let debug = shaped_fn(&model.krate, shape, ty, "debug");
        let label = ident.to_string();
        quote!(.field(#label, #debug(&self.#ident)))
    });
    let label = name.to_string();
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, __formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __formatter.debug_struct(#label) #(#fields)* .finish()
            }
        }
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

/// The three generated events: the structs, and their impls for the `const _`.
fn events(model: &Entity) -> (Vec<Message>, TokenStream) {
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
        (&names.created, "Created", model.upcast.created.as_ref()),
        (&names.updated, "Updated", model.upcast.updated.as_ref()),
        (&names.deleted, "Deleted", None),
    ]
    .map(|(event, suffix, older)| {
        let stored = format!("{type_name}{suffix}");
        let decode = match (older, suffix) {
            (Some(older), _) => upcast_decoder(krate, older),
            // A deletion carries nothing: what any version stored reads as one.
            (None, "Deleted") => quote! {
                fn decode_stored<'__payload>(
                    __stored_version: u32,
                    __payload: impl ::core::convert::Into<#krate::event::StoredPayload<'__payload>>,
                ) -> ::core::result::Result<Self, #krate::DecodeError> {
                    let _ = __payload;
                    #krate::checks::decode_deletion(__stored_version, || Self)
                }
            },
            (None, _) => TokenStream::new(),
        };
        quote! {
            #[automatically_derived]
            impl #krate::DomainEvent for #event {
                const EVENT_TYPE: &'static str = #stored;
                const EVENT_VERSION: u32 = #version;
                #decode
            }
        }
    });
    (vec![created, updated, deleted], quote!(#(#impls)*))
}

/// The three generated commands: the structs, and their impls for the `const _`.
fn commands(model: &Entity) -> (Vec<Message>, TokenStream) {
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
    let state = model.state_type();
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
    (vec![create, update, delete], quote!(#(#impls)*))
}

/// `decode_stored` through the older schema `older`, spanned at it so that a missing
/// `From<Older>` impl is reported where it is named.
fn upcast_decoder(krate: &Path, older: &Path) -> TokenStream {
    let call = quote_spanned! {older.span()=>
        #krate::checks::decode_upcasting::<Self, #older>(__stored_version, __payload.into())
    };
    quote! {
        fn decode_stored<'__payload>(
            __stored_version: u32,
            __payload: impl ::core::convert::Into<#krate::event::StoredPayload<'__payload>>,
        ) -> ::core::result::Result<Self, #krate::DecodeError> {
            #call
        }
    }
}
