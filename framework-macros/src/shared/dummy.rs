//! The `const _: () = { ... };` that holds the impls a derive generates, as serde's `dummy.rs`
//! and darling's `wrap_in_const` do: the helpers inside leak no name into the user's module,
//! and the runtime crate is bound once, as `_aggregato`, whatever path `crate = ...` gave.
//!
//! Public items the user names (the event and command enums, an entity's messages, the step
//! enum) stay outside: they are the point of the derive.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, Path};

/// The name the runtime crate is bound to inside the `const _`.
pub(crate) fn local_crate() -> Path {
    Path::from(Ident::new("_aggregato", Span::call_site()))
}

/// `items` inside `const _: () = { use krate as _aggregato; ... };`, where `items` name the
/// runtime crate by [`local_crate`].
pub(crate) fn wrap_in_const(krate: &Path, items: TokenStream) -> TokenStream {
    let local = local_crate();
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            #[allow(unused_imports)]
            use #krate as #local;
            #items
        };
    }
}
