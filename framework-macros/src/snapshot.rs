//! Support for the expansion snapshot tests of each derive.

use proc_macro2::TokenStream;

/// The expansion as a reader sees it: pretty-printed Rust. An expansion that does not parse
/// comes out as the parse error and the raw tokens, so the snapshot comparison fails and shows
/// why.
pub(crate) fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(error) => format!("the expansion does not parse: {error}\n{tokens}"),
    }
}
