//! Expansion snapshots of `#[derive(Entity)]`.

use quote::quote;

use crate::snapshot::pretty;

#[test]
fn every_option() {
    let expansion = super::expand(quote! {
        #[derive(Debug, Clone, Default, PartialEq, Entity)]
        #[entity(
            name = "Catalog.Product",
            version = 2,
            upcast(created = ProductCreatedV1, updated = ProductUpdatedV1),
            error = CatalogueError,
            services = Pricing,
            validate = check_product,
            events(ProductDiscontinued),
            commands(DiscontinueProduct),
            crate = ::aggregato,
        )]
        pub struct Product {
            #[entity(id)]
            id: ProductId,
            #[entity(validate = not_blank)]
            name: String,
            price_cents: u64,
            #[entity(readonly)]
            sku: String,
            #[entity(skip)]
            views: u32,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn minimal() {
    let expansion = super::expand(quote! {
        #[derive(Entity)]
        struct Tag {
            #[entity(id)]
            id: u64,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn every_mistake_at_once() {
    let expansion = super::expand(quote! {
        #[derive(Entity)]
        #[entity(name = "", version = 0, validate = check, events(TagCreated))]
        struct Tag {
            #[entity(id, readonly)]
            id: u64,
            #[entity(id)]
            other: u64,
            #[entity(skip, validate = check)]
            cache: u8,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn generic_types_in_every_type_key() {
    let expansion = super::expand(quote! {
        #[derive(Debug, Clone, PartialEq, Entity)]
        #[entity(
            error = Unpriced<Box<str>>,
            services = my::Services<'static, u8>,
        )]
        pub struct Product {
            #[entity(id)]
            id: u64,
        }
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}

#[test]
fn enum_names_as_the_aggregate_derive_takes_them() {
    let expansion = pretty(super::expand(quote! {
        #[derive(Debug, Clone, Entity)]
        #[entity(event_enum = CatalogEvent, command_enum = CatalogCommand)]
        pub struct Product {
            #[entity(id)]
            id: u64,
        }
    }));
    assert!(!expansion.contains("compile_error"), "{expansion}");
    assert!(expansion.contains("pub enum CatalogEvent {"), "{expansion}");
    assert!(
        expansion.contains("pub enum CatalogCommand {"),
        "{expansion}"
    );
    assert!(
        expansion.contains("type Event = CatalogEvent;"),
        "{expansion}"
    );
}

#[test]
fn an_enum_named_like_a_generated_message_is_refused() {
    let expansion = pretty(super::expand(quote! {
        #[derive(Debug, Clone, Entity)]
        #[entity(event_enum = ProductCreated)]
        pub struct Product {
            #[entity(id)]
            id: u64,
        }
    }));
    assert!(
        expansion.contains("the generated enum cannot be named `ProductCreated`"),
        "{expansion}"
    );
}
