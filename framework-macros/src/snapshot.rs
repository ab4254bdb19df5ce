//! Support for the expansion snapshot tests of each derive.

use proc_macro2::TokenStream;

/// The expansion as a reader sees it: pretty-printed Rust.
pub(crate) fn pretty(tokens: TokenStream) -> String {
    let file = syn::parse2::<syn::File>(tokens).expect("the expansion parses as a Rust file");
    prettyplease::unparse(&file)
}
