//! What `#[entity(...)]` may contain on the struct and on its fields, and the model of one
//! entity.

use darling::FromMeta;
use darling::error::Accumulator;
use darling::util::SpannedValue;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, Generics, Ident, Path, Type, Visibility};

use crate::shared::attribute::{self, Read, TypeKey};
use crate::shared::paths::enum_name;
use crate::shared::rules::{Shape, struct_fields};
use crate::shared::type_list::{Member, TypeList};
use crate::shared::values::Marker;

/// The derive input: the struct, what its `#[entity(...)]` says, and its fields.
///
/// The shape is checked by [`struct_fields`] rather than darling's `supports(...)`, whose error
/// points at the derive and does not say what to write instead.
pub(super) struct EntityInput {
    pub(super) ident: Ident,
    pub(super) vis: Visibility,
    pub(super) generics: Generics,
    pub(super) options: Read<EntityOptions>,
    /// The struct's fields with their `#[entity(...)]`.
    pub(super) fields: Vec<FieldInput>,
    /// Whether the struct has named fields: else it has no fields to check.
    pub(super) has_fields: bool,
}

/// What `#[entity(...)]` on the struct may contain.
#[derive(FromMeta, Default)]
pub(super) struct EntityOptions {
    /// The stored entity type, and the prefix of the generated event names; the struct's
    /// ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The schema version of the three generated events; 1 when absent.
    pub(super) version: Option<SpannedValue<u32>>,
    /// The older schemas the generated events read their older versions through.
    pub(super) upcast: Option<EntityUpcast>,
    /// The user's error; `Infallible` when absent.
    pub(super) error: Option<Type>,
    /// The services handed to the handlers of added commands; `()` when absent.
    pub(super) services: Option<Type>,
    /// Validates the would-be entity before a create or update is accepted.
    pub(super) validate: Option<Path>,
    /// Event types the user adds beside the generated ones.
    pub(super) events: Option<TypeList>,
    /// Command types the user adds beside the generated ones.
    pub(super) commands: Option<TypeList>,
    /// The generated event enum's name; `{Struct}Event` when absent.
    pub(super) event_enum: Option<Ident>,
    /// The generated command enum's name; `{Struct}Command` when absent.
    pub(super) command_enum: Option<Ident>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// `upcast(created = CreatedV1, updated = UpdatedV1)`: the event types, written by the user,
/// that the generated Created and Updated events were stored as at older versions; each
/// converts into the generated one with `From`, as `#[event(upcast_from = ...)]` does.
#[derive(FromMeta, Default, Clone)]
pub(super) struct EntityUpcast {
    pub(super) created: Option<Path>,
    pub(super) updated: Option<Path>,
}

/// The keys of `#[entity(...)]` on the struct whose values are types, read as types whatever
/// they are (`services = Arc<dyn Pricing + Send + Sync>`).
pub(super) const TYPE_KEYS: &[TypeKey] = &[
    TypeKey {
        key: "error",
        example: "CatalogueError",
    },
    TypeKey {
        key: "services",
        example: "Arc<Pricing>",
    },
];

/// One field, with what its `#[entity(...)]` says.
pub(super) struct FieldInput {
    pub(super) ident: Ident,
    pub(super) ty: Type,
    pub(super) options: FieldOptions,
    /// Whether its `#[entity(...)]` was read without a mistake.
    pub(super) clean: bool,
}

/// What `#[entity(...)]` on a field may contain.
#[derive(FromMeta, Default)]
pub(super) struct FieldOptions {
    /// The entity's identity.
    pub(super) id: Marker,
    /// Set at creation, absent from the update patch.
    pub(super) readonly: Marker,
    /// Not stored: absent from every event, and `Default` when the entity is created.
    pub(super) skip: Marker,
    /// Validates the field's value before a create or update is accepted.
    pub(super) validate: Option<Path>,
}

impl EntityInput {
    /// Reads the input totally: a wrong shape and every mistake in the struct's and the fields'
    /// attributes go to `errors`, and what could be read is kept.
    pub(super) fn parse(input: &DeriveInput, errors: &mut Accumulator) -> Self {
        let ident = &input.ident;
        let named = errors.handle(struct_fields(
            input,
            Shape::Named,
            "Entity",
            &format!(
                "write the entity's fields by name, such as \
                 `struct {ident} {{ #[entity(id)] id: String, name: String }}`"
            ),
        ));
        let options = attribute::options(errors, &input.attrs, "entity", TYPE_KEYS);
        let named = named.flatten();
        let fields = named
            .into_iter()
            .flat_map(|named| named.named.iter())
            .filter_map(|field| {
                let read = attribute::options::<FieldOptions>(errors, &field.attrs, "entity", &[]);
                Some(FieldInput {
                    ident: field.ident.clone()?,
                    ty: field.ty.clone(),
                    clean: read.is_clean(),
                    options: read.options,
                })
            })
            .collect();
        Self {
            ident: ident.clone(),
            vis: input.vis.clone(),
            generics: input.generics.clone(),
            options,
            fields,
            has_fields: named.is_some(),
        }
    }
}

/// One entity: everything the generated code needs. Built whatever the mistakes, with
/// stand-in values for what is missing or wrong; valid when no error was reported.
pub(super) struct Entity {
    /// The runtime crate as the user's code reaches it: `::aggregato`, or `crate = ...`.
    pub(super) runtime: Path,
    /// The runtime crate as the generated impls name it, inside their `const _`.
    pub(super) krate: Path,
    /// Whether the struct has generics, which entities cannot have yet.
    pub(super) generic: bool,
    pub(super) vis: Visibility,
    pub(super) ident: Ident,
    /// `Entity::ENTITY_TYPE`, and the prefix of the generated event names.
    pub(super) type_name: String,
    /// The schema version of the generated events.
    pub(super) version: u32,
    /// What older versions of the generated events are read through.
    pub(super) upcast: EntityUpcast,
    pub(super) error: Type,
    pub(super) services: Type,
    /// The struct-level validator.
    pub(super) validate: Option<Path>,
    /// Every field, in declaration order.
    pub(super) fields: Vec<Field>,
    /// The names of the generated items.
    pub(super) names: Names,
    /// The event types the user adds.
    pub(super) extra_events: Vec<Member>,
    /// The command types the user adds.
    pub(super) extra_commands: Vec<Member>,
}

impl Entity {
    /// `EntityState<Struct>`, the aggregate, as the impls name it.
    pub(super) fn state_type(&self) -> TokenStream {
        let Self { krate, ident, .. } = self;
        quote!(#krate::entity::EntityState<#ident>)
    }

    /// The identity field; validation guarantees there is exactly one.
    pub(super) fn id(&self) -> Option<&Field> {
        self.fields.iter().find(|field| field.role == Role::Id)
    }

    /// The fields stored in the created event and the create command: all but skipped ones.
    pub(super) fn stored(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| field.role != Role::Skip)
    }

    /// The fields of the update patch.
    pub(super) fn updatable(&self) -> impl Iterator<Item = &Field> {
        self.fields
            .iter()
            .filter(|field| field.role == Role::Updatable)
    }

    /// The fields that are not stored, restored by `Default`.
    pub(super) fn skipped(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| field.role == Role::Skip)
    }
}

/// One field of the entity.
pub(super) struct Field {
    pub(super) ident: Ident,
    pub(super) ty: Type,
    pub(super) role: Role,
    pub(super) validate: Option<Path>,
}

/// What a field is to the lifecycle.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The identity: set at creation, never changes.
    Id,
    /// Set at creation, changed by updates.
    Updatable,
    /// Set at creation, never changes.
    Readonly,
    /// Not stored.
    Skip,
}

/// The generated items' names, from the struct's name.
pub(super) struct Names {
    pub(super) created: Ident,
    pub(super) updated: Ident,
    pub(super) deleted: Ident,
    pub(super) create: Ident,
    pub(super) update: Ident,
    pub(super) delete: Ident,
    pub(super) event_enum: Ident,
    pub(super) command_enum: Ident,
}

impl Names {
    /// The names from the struct's name, with the user's enum names if given.
    pub(super) fn of(
        ident: &Ident,
        event_enum: Option<Ident>,
        command_enum: Option<Ident>,
    ) -> Self {
        let name = |text: String| Ident::new(&text, ident.span());
        Self {
            created: name(format!("{ident}Created")),
            updated: name(format!("{ident}Updated")),
            deleted: name(format!("{ident}Deleted")),
            create: name(format!("Create{ident}")),
            update: name(format!("Update{ident}")),
            delete: name(format!("Delete{ident}")),
            event_enum: enum_name(event_enum, ident, "Event"),
            command_enum: enum_name(command_enum, ident, "Command"),
        }
    }

    /// The generated events, in order.
    pub(super) fn events(&self) -> [&Ident; 3] {
        [&self.created, &self.updated, &self.deleted]
    }

    /// The generated commands, in order.
    pub(super) fn commands(&self) -> [&Ident; 3] {
        [&self.create, &self.update, &self.delete]
    }
}
