//! The stand-ins `#[derive(Aggregate)]` emits beside its errors, as thiserror does.
//!
//! Without them, every `#[command(aggregate = Account)]`, every `impl Handle<C> for Account`
//! and every `Vec<AccountEvent>` in a handler adds its own error to the real mistakes: the
//! `Aggregate` impl and the enums they name were never generated. With an `Aggregate` impl and
//! empty enums of the expected names, those items type-check and the compiler reports only the
//! mistakes in `#[aggregate(...)]`. Nothing here runs: the crate does not compile.
//!
//! The keys are read again leniently, so that a mistake in one key does not lose the others:
//! a handler returning `Result<_, BankError>` type-checks only against `type Error = BankError`.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{DeriveInput, Ident, Meta, Path, Token, Type, Visibility};

use super::model::{Entry, TYPE_KEYS};
use crate::attribute;
use crate::paths::{infallible, runtime_crate, unit_type};

/// The stand-ins for the aggregate `input`, or nothing when its shape does not allow them:
/// a generic aggregate has no single `Aggregate` impl to stand in for.
pub(super) fn stand_ins(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return TokenStream::new();
    }
    let known = Known::read(input);
    let krate = runtime_crate(known.krate.and_then(Lenient::into_inner));
    let unreachable = quote!(#krate::__private::Unreachable);
    let ident = &input.ident;
    let event_enum = known
        .event_enum
        .and_then(Lenient::into_inner)
        .unwrap_or_else(|| format_ident!("{ident}Event"));
    let command_enum = known
        .command_enum
        .and_then(Lenient::into_inner)
        .unwrap_or_else(|| format_ident!("{ident}Command"));
    let enums_fit = event_enum != *ident && command_enum != *ident && event_enum != command_enum;
    let (event_type, command_type, enums) = if enums_fit {
        let enums = [
            empty_enum(&input.vis, &event_enum, ident, listed(known.events)),
            event_traits(&krate, &event_enum),
            empty_enum(&input.vis, &command_enum, ident, listed(known.commands)),
        ];
        (
            quote!(#event_enum),
            quote!(#command_enum),
            quote!(#(#enums)*),
        )
    } else {
        (unreachable.clone(), unreachable.clone(), TokenStream::new())
    };
    let or_unreachable =
        |ty: Option<Type>| ty.map_or_else(|| unreachable.clone(), |ty| quote!(#ty));
    let id = or_unreachable(known.id.and_then(Lenient::into_inner));
    let error = or_unreachable(known.error.map_or(Some(infallible()), Lenient::into_inner));
    let services = or_unreachable(
        known
            .services
            .map_or(Some(unit_type()), Lenient::into_inner),
    );
    let type_name = ident.to_string();
    quote! {
        #enums

        #[automatically_derived]
        impl #krate::Aggregate for #ident {
            const AGGREGATE_TYPE: &'static str = #type_name;
            type Id = #id;
            type Event = #event_type;
            type Command = #command_type;
            type Error = #error;
            type Services = #services;

            fn handle(
                &self,
                _: Self::Command,
                _: &Self::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::std::vec::Vec<Self::Event>, Self::Error>,
            > + ::core::marker::Send {
                ::core::future::pending()
            }

            fn apply(&mut self, event: &Self::Event) {
                match *event {}
            }
        }
    }
}

/// What could be read of `#[aggregate(...)]`. A key is `None` when absent and `Some` of
/// `Lenient(None)` when present but wrong, so that an absent `error` still means `Infallible`.
#[derive(FromMeta)]
#[darling(allow_unknown_fields)]
struct Known {
    id: Option<Lenient<Type>>,
    error: Option<Lenient<Type>>,
    services: Option<Lenient<Type>>,
    events: Option<Lenient<Listed>>,
    commands: Option<Lenient<Listed>>,
    event_enum: Option<Lenient<Ident>>,
    command_enum: Option<Lenient<Ident>>,
    #[darling(rename = "crate")]
    krate: Option<Lenient<Path>>,
}

impl Known {
    /// Reads what it can; a key given twice, which darling rejects, counts once.
    fn read(input: &DeriveInput) -> Self {
        let items = attribute::items(&input.attrs, "aggregate", TYPE_KEYS);
        Self::from_list(&items)
            .or_else(|_| Self::from_list(&first_of_each_key(items)))
            .unwrap_or_else(|_| Self::nothing())
    }

    /// Nothing, when even the lenient reading fails.
    fn nothing() -> Self {
        Self {
            id: None,
            error: None,
            services: None,
            events: None,
            commands: None,
            event_enum: None,
            command_enum: None,
            krate: None,
        }
    }
}

/// The first item of each key.
fn first_of_each_key(items: Vec<NestedMeta>) -> Vec<NestedMeta> {
    let mut seen: Vec<Path> = Vec::new();
    items
        .into_iter()
        .filter(|item| {
            let Some(key) = attribute::item_key(item) else {
                return true;
            };
            let first = !seen.contains(key);
            seen.push(key.clone());
            first
        })
        .collect()
}

/// A value that is `None` when it does not parse, instead of an error.
pub(crate) struct Lenient<T>(Option<T>);

impl<T> Lenient<T> {
    pub(crate) fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: FromMeta> FromMeta for Lenient<T> {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        Ok(Self(T::from_meta(item).ok()))
    }
}

/// The types of `events(...)` or `commands(...)` that can be read, quoted ones included, each
/// once.
pub(crate) struct Listed(pub(crate) Vec<Path>);

impl FromMeta for Listed {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let entries = item
            .require_list()?
            .parse_args_with(Punctuated::<Entry, Token![,]>::parse_terminated)?;
        let mut paths: Vec<Path> = Vec::new();
        for entry in entries {
            let path = match entry {
                Entry::Type(path) => path,
                Entry::Quoted(text) => match text.parse() {
                    Ok(path) => path,
                    Err(_) => continue,
                },
            };
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        Ok(Self(paths))
    }
}

pub(crate) fn listed(list: Option<Lenient<Listed>>) -> Vec<Path> {
    list.and_then(Lenient::into_inner)
        .map_or_else(Vec::new, |listed| listed.0)
}

/// `enum Name {}` with `Debug`, `Clone`, `PartialEq`, and `From` each listed type.
fn empty_enum(vis: &Visibility, name: &Ident, aggregate: &Ident, listed: Vec<Path>) -> TokenStream {
    let doc = format!(
        "Stands in for an enum of `{aggregate}` while its `#[aggregate(...)]` has mistakes."
    );
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
        #vis enum #name {}

        #(
            #[automatically_derived]
            impl ::core::convert::From<#listed> for #name {
                fn from(_: #listed) -> Self {
                    ::core::unreachable!()
                }
            }
        )*
    }
}

/// Serde and `EventSet` for the empty event enum.
fn event_traits(krate: &Path, name: &Ident) -> TokenStream {
    let serde = quote!(#krate::__private::serde);
    let json = quote!(#krate::__private::serde_json);
    quote! {
        #[automatically_derived]
        impl #serde::Serialize for #name {
            fn serialize<__S>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: #serde::Serializer,
            {
                match *self {}
            }
        }

        #[automatically_derived]
        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<__D>(__deserializer: __D) -> ::core::result::Result<Self, __D::Error>
            where
                __D: #serde::Deserializer<'de>,
            {
                <#krate::__private::Unreachable as #serde::Deserialize<'de>>::deserialize(
                    __deserializer,
                )
                .map(|never| match never {})
            }
        }

        #[automatically_derived]
        impl #krate::EventSet for #name {
            const EVENT_TYPES: &'static [&'static str] = &[];

            fn event_type(&self) -> &'static str {
                match *self {}
            }

            fn event_version(&self) -> u32 {
                match *self {}
            }

            fn encode(&self) -> ::core::result::Result<#json::Value, #json::Error> {
                match *self {}
            }

            fn decode<'__payload>(
                __event_type: &str,
                __event_version: u32,
                __payload: impl ::core::convert::Into<#krate::event::StoredPayload<'__payload>>,
            ) -> ::core::result::Result<Self, #krate::DecodeError> {
                <#krate::__private::Unreachable as #krate::EventSet>::decode(
                    __event_type,
                    __event_version,
                    __payload,
                )
                .map(|never| match never {})
            }
        }
    }
}
