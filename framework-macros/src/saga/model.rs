//! What `#[derive(Saga)]`, `#[saga_steps(...)]` and `#[step(...)]` may contain, the impl block
//! as `#[saga_steps]` reads it, and the models the code generation works from.

use darling::FromMeta;
use darling::error::Accumulator;
use darling::util::{Flag, SpannedValue};
use syn::{Attribute, DeriveInput, Ident, ImplItem, ItemImpl, Path, Signature, Type};

use crate::shared::attribute::{self, Read, TypeKey};
use crate::shared::values::Millis;

/// What `#[saga(...)]` may contain. The shape of the struct (named fields, or a unit struct)
/// is checked by the validation, so that the error says what to write instead.
#[derive(FromMeta, Default)]
pub(super) struct SagaOptions {
    /// The stored saga type name; the struct's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// What the steps receive; `()` when absent.
    pub(super) services: Option<Type>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// The keys of `#[saga(...)]` whose values are types, read as types whatever they are
/// (`services = Arc<dyn Payments + Send + Sync>`).
pub(super) const TYPE_KEYS: &[TypeKey] = &[TypeKey {
    key: "services",
    example: "Arc<ShopServices>",
}];

impl SagaOptions {
    /// Reads `#[saga(...)]` totally: every mistake goes to `errors`, what could be read is kept.
    pub(super) fn parse(input: &DeriveInput, errors: &mut Accumulator) -> Read<Self> {
        attribute::options(errors, &input.attrs, "saga", TYPE_KEYS)
    }
}

/// One saga type: everything `impl Saga` needs. Built whatever the mistakes, with stand-in
/// values for what is wrong; valid when no error was reported.
pub(super) struct Saga {
    /// The runtime crate as the user's code reaches it: `::aggregato`, or `crate = ...`.
    pub(super) runtime: Path,
    /// The runtime crate as the impl names it, inside its `const _`.
    pub(super) krate: Path,
    pub(super) ident: Ident,
    /// `Saga::SAGA_TYPE`.
    pub(super) type_name: String,
    pub(super) services: Type,
    /// Whether an impl can stand in for the real one beside errors: not for a generic type or
    /// a union.
    pub(super) stands_in: bool,
}

/// The arguments of `#[saga_steps(...)]`, all optional.
#[derive(FromMeta, Default)]
pub(super) struct StepsArgs {
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
    /// The name of the generated step enum; `{Saga}Step` when absent.
    pub(super) step_enum: Option<Ident>,
}

/// The options of one `#[step(...)]`.
#[derive(FromMeta, Default)]
pub(super) struct StepOptions {
    /// The method that undoes the step.
    pub(super) compensate: Option<Ident>,
    /// The point of no return.
    pub(super) pivot: Flag,
    /// Nothing to undo.
    pub(super) no_compensation: Flag,
    /// How long one run of the step may take.
    pub(super) timeout_ms: Option<Millis>,
}

/// The impl block under `#[saga_steps]`, with every `#[step(...)]` taken off its methods: the
/// block as it is emitted again, and what the attributes said.
pub(super) struct StepsBlock {
    /// The block without the `#[step(...)]` attributes, which are not real attributes.
    pub(super) item: ItemImpl,
    /// Every method of the block, in declaration order.
    pub(super) methods: Vec<Method>,
    /// `#[step(...)]` found on items that are not methods.
    pub(super) misplaced: Vec<Attribute>,
}

/// One method of the block.
pub(super) struct Method {
    pub(super) sig: Signature,
    /// Its `#[step(...)]` attributes: none for a compensation or a helper.
    pub(super) step_attrs: Vec<Attribute>,
}

impl Method {
    /// Whether the method is marked as a step.
    pub(super) fn is_step(&self) -> bool {
        !self.step_attrs.is_empty()
    }
}

impl StepsBlock {
    /// Takes the `#[step(...)]` attributes off `item`'s methods.
    pub(super) fn read(mut item: ItemImpl) -> Self {
        let mut methods = Vec::new();
        let mut misplaced = Vec::new();
        for member in &mut item.items {
            match member {
                ImplItem::Fn(method) => {
                    let step_attrs = take_step_attrs(&mut method.attrs);
                    methods.push(Method {
                        sig: method.sig.clone(),
                        step_attrs,
                    });
                }
                ImplItem::Const(item) => misplaced.extend(take_step_attrs(&mut item.attrs)),
                ImplItem::Type(item) => misplaced.extend(take_step_attrs(&mut item.attrs)),
                ImplItem::Macro(item) => misplaced.extend(take_step_attrs(&mut item.attrs)),
                _ => {}
            }
        }
        Self {
            item,
            methods,
            misplaced,
        }
    }

    /// The method named `name`.
    pub(super) fn method(&self, name: &Ident) -> Option<&Method> {
        self.methods.iter().find(|method| method.sig.ident == *name)
    }

    /// The methods marked as steps, in declaration order.
    pub(super) fn marked(&self) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(|method| method.is_step())
    }
}

fn take_step_attrs(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (steps, others) = std::mem::take(attrs)
        .into_iter()
        .partition(|attr| attr.path().is_ident("step"));
    *attrs = others;
    steps
}

/// The steps of one saga, validated: everything `impl SagaSteps` and the step enum need.
pub(super) struct Steps {
    /// The runtime crate as the user's code reaches it.
    pub(super) runtime: Path,
    /// The runtime crate as the impls name it, inside their `const _`.
    pub(super) krate: Path,
    /// The saga type as the impl block names it.
    pub(super) self_ty: Type,
    /// The saga's name, for documentation.
    pub(super) saga: Ident,
    pub(super) step_enum: Ident,
    /// In declaration order, which is the order they run in.
    pub(super) steps: Vec<Step>,
}

/// One step.
pub(super) struct Step {
    /// The step's method; its name is the step's name.
    pub(super) method: Ident,
    /// Where errors about the value a step returns point: its return type.
    pub(super) output: proc_macro2::Span,
    /// Its variant in the step enum.
    pub(super) variant: Ident,
    pub(super) kind: StepKind,
    pub(super) timeout_ms: Option<u64>,
}

/// How a step is undone.
pub(super) enum StepKind {
    /// By the compensation method, and where errors about calling it point.
    Compensable {
        method: Ident,
        output: proc_macro2::Span,
    },
    Pivot,
    NoCompensation,
}
