//! What `#[entity(...)]` may contain on the struct and on its fields, and the validated model
//! of one entity.

use darling::util::{Flag, SpannedValue};
use darling::{FromField, FromMeta};
use syn::{Data, DataStruct, DeriveInput, Fields, Generics, Ident, Path, Type, Visibility};

use crate::aggregate::model::{Member, TypeList};
use crate::attribute::{self, TypeKey};
use crate::validate::error_at;

/// The derive input: the struct, what its `#[entity(...)]` says, and its fields.
///
/// The shape is checked by [`named_fields`] rather than darling's `supports(...)`, whose error
/// points at the derive and does not say what to write instead.
pub(super) struct EntityInput {
    pub(super) ident: Ident,
    pub(super) vis: Visibility,
    pub(super) generics: Generics,
    pub(super) options: EntityOptions,
    /// The struct's fields with their `#[entity(...)]`.
    pub(super) fields: Vec<FieldInput>,
    /// The mistakes in the fields' `#[entity(...)]`, reported together with those that
    /// validation finds in the fields that could be read.
    pub(super) field_errors: Vec<darling::Error>,
}

/// What `#[entity(...)]` on the struct may contain.
#[derive(FromMeta)]
pub(super) struct EntityOptions {
    /// The stored entity type, and the prefix of the generated event names; the struct's
    /// ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The schema version of the three generated events; 1 when absent.
    pub(super) version: Option<SpannedValue<u32>>,
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
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
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

/// One field as darling reads it, with `#[entity(...)]`.
#[derive(FromField)]
#[darling(attributes(entity))]
pub(super) struct FieldInput {
    pub(super) ident: Option<Ident>,
    pub(super) ty: Type,
    /// The entity's identity.
    pub(super) id: Flag,
    /// Set at creation, absent from the update patch.
    pub(super) readonly: Flag,
    /// Not stored: absent from every event, and `Default` when the entity is created.
    pub(super) skip: Flag,
    /// Validates the field's value before a create or update is accepted.
    pub(super) validate: Option<Path>,
}

impl EntityInput {
    /// Reads the input. A wrong shape or a mistake in the struct's attribute ends the
    /// derive here, with every such mistake; a mistake in a field's attribute is kept for
    /// validation to report beside its own.
    pub(super) fn parse(input: &DeriveInput) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let named = errors.handle(named_fields(input));
        let options = errors.handle(attribute::options(&input.attrs, "entity", TYPE_KEYS));
        let options = crate::validate::finish(errors, options)?;
        let mut fields = Vec::new();
        let mut field_errors = Vec::new();
        for field in named.iter().flat_map(|named| named.named.iter()) {
            match FieldInput::from_field(field) {
                Ok(field) => fields.push(field),
                Err(error) => field_errors.push(error),
            }
        }
        Ok(Self {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            generics: input.generics.clone(),
            options,
            fields,
            field_errors,
        })
    }
}

/// An entity is a struct with named fields: they become the fields of its events.
fn named_fields(input: &DeriveInput) -> darling::Result<&syn::FieldsNamed> {
    let ident = &input.ident;
    let (span, found) = match &input.data {
        Data::Struct(DataStruct {
            fields: Fields::Named(fields),
            ..
        }) => return Ok(fields),
        Data::Struct(DataStruct {
            fields: Fields::Unnamed(fields),
            ..
        }) => (fields.paren_token.span.join(), "a tuple struct"),
        Data::Struct(DataStruct {
            struct_token,
            fields: Fields::Unit,
            ..
        }) => (struct_token.span, "a unit struct"),
        Data::Enum(data) => (data.enum_token.span, "an enum"),
        Data::Union(data) => (data.union_token.span, "a union"),
    };
    Err(error_at(
        span,
        format!(
            "`#[derive(Entity)]` needs a struct with named fields, but `{ident}` is {found}: \
             write the entity's fields by name, such as \
             `struct {ident} {{ #[entity(id)] id: String, name: String }}`"
        ),
    ))
}

/// One entity, validated: everything the generated code needs.
pub(super) struct Entity {
    pub(super) krate: Path,
    pub(super) vis: Visibility,
    pub(super) ident: Ident,
    /// `Entity::ENTITY_TYPE`, and the prefix of the generated event names.
    pub(super) type_name: String,
    /// The schema version of the generated events.
    pub(super) version: u32,
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
    pub(super) fn of(ident: &Ident) -> Self {
        let name = |text: String| Ident::new(&text, ident.span());
        Self {
            created: name(format!("{ident}Created")),
            updated: name(format!("{ident}Updated")),
            deleted: name(format!("{ident}Deleted")),
            create: name(format!("Create{ident}")),
            update: name(format!("Update{ident}")),
            delete: name(format!("Delete{ident}")),
            event_enum: name(format!("{ident}Event")),
            command_enum: name(format!("{ident}Command")),
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
