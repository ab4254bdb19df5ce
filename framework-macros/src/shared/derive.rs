//! The one path every derive takes: parse the input, build the model totally (every mistake
//! pushed, the model built anyway), then emit the expansion, or the errors with the stand-ins
//! built from that same model.

use darling::error::Accumulator;
use proc_macro2::TokenStream;
use syn::DeriveInput;

/// Runs a derive on `input`: `model` reads and checks it, `expand` generates the code of a
/// model without mistakes, `stand_ins` what is emitted beside the errors otherwise.
pub(crate) fn run<M>(
    input: TokenStream,
    model: impl FnOnce(&DeriveInput, &mut Accumulator) -> M,
    expand: impl FnOnce(&M) -> TokenStream,
    stand_ins: impl FnOnce(&M) -> TokenStream,
) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = darling::Error::accumulator();
    let model = model(&input, &mut errors);
    expansion_or_stand_ins(errors, || expand(&model), || stand_ins(&model))
}

/// The output: the expansion when no mistake was found; else every mistake, each at its span,
/// and the stand-ins that keep the user's other items compiling beside them.
pub(crate) fn expansion_or_stand_ins(
    errors: Accumulator,
    expansion: impl FnOnce() -> TokenStream,
    stand_ins: impl FnOnce() -> TokenStream,
) -> TokenStream {
    match errors.finish() {
        Ok(()) => expansion(),
        Err(errors) => {
            let mut tokens = errors.write_errors();
            tokens.extend(stand_ins());
            tokens
        }
    }
}
