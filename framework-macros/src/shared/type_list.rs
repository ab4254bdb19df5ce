//! Lists of types in an attribute, such as `events(AccountOpened, bank::MoneyDeposited)`, and
//! the enum variant each listed type becomes.

use darling::FromMeta;
use darling::error::Accumulator;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Meta, MetaList, Path, Token};

use super::diagnostics::{display_path, error_at};

/// A list of types, such as `events(AccountOpened, MoneyDeposited)`: the list as written (for
/// error spans) and its entries, quoted ones included, which validation reports.
pub(crate) struct TypeList {
    pub(crate) list: MetaList,
    pub(crate) entries: Vec<Entry>,
}

impl FromMeta for TypeList {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let Meta::List(list) = item else {
            let key = display_path(item.path());
            return Err(darling::Error::custom(format!(
                "write `{key}` as a list of types: `{key}(FirstType, SecondType)`"
            ))
            .with_span(item));
        };
        let entries = list.parse_args_with(Punctuated::<Entry, Token![,]>::parse_terminated)?;
        Ok(TypeList {
            list: list.clone(),
            entries: entries.into_iter().collect(),
        })
    }
}

impl TypeList {
    /// Whether the list names no type: `events()`.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The member of each entry, in order; a quoted entry is reported, and read as the type
    /// it quotes when it is one, so that the stand-ins still convert from it.
    pub(crate) fn members(&self, errors: &mut Accumulator) -> Vec<Member> {
        let key = display_path(&self.list.path);
        let mut members = Vec::new();
        for entry in &self.entries {
            let ty = match entry {
                Entry::Type(path) => path.clone(),
                Entry::Quoted(text) => {
                    errors.push(error_at(
                        text.span(),
                        format!(
                            "`{key}(...)` lists types, not strings: remove the quotes, `{}`",
                            text.value()
                        ),
                    ));
                    match text.parse() {
                        Ok(path) => path,
                        Err(_) => continue,
                    }
                }
            };
            members.extend(Member::of(ty));
        }
        members
    }
}

/// One entry of a type list: a type path (`MoneyDeposited`, `bank::Opened`, `Recorded<u8>`),
/// or the common mistake of a quoted one, read so that it can be reported with the fix.
pub(crate) enum Entry {
    Type(Path),
    Quoted(LitStr),
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            input.parse().map(Self::Quoted)
        } else {
            input.parse().map(Self::Type)
        }
    }
}

/// One type listed in `events(...)` or `commands(...)`, and the enum variant that wraps it.
pub(crate) struct Member {
    /// The type as the user wrote it; its span is where errors about it point.
    pub(crate) ty: Path,
    /// The variant: the last segment of `ty`.
    pub(crate) variant: Ident,
}

impl Member {
    /// The member for a listed type; its variant is named after the last segment. `None` only
    /// for a path without segments, which syn's parser never produces.
    pub(crate) fn of(ty: Path) -> Option<Self> {
        let variant = ty.segments.last()?.ident.clone();
        Some(Self { ty, variant })
    }

    /// `members` without a type listed again, as written.
    pub(crate) fn distinct(members: Vec<Self>) -> Vec<Self> {
        let mut distinct: Vec<Self> = Vec::new();
        for member in members {
            if !distinct.iter().any(|seen| seen.ty == member.ty) {
                distinct.push(member);
            }
        }
        distinct
    }
}
