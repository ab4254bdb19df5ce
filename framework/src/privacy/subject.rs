//! [`Subject`]: whose data a protected value is, the unit of keys and of erasure.

use std::fmt;

/// The person (or other party) a protected value is about: the unit that owns a data key
/// and that [`KeyStore::forget`](super::KeyStore::forget) erases. A subject lives in a
/// tenant, so two tenants' subject `"42"` never share a key, and a value sealed for one
/// tenant does not decrypt in another.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    tenant: String,
    id: String,
}

impl Subject {
    /// The subject `id` of an application without tenants (the tenant is `""`).
    pub fn new(id: impl Into<String>) -> Self {
        Self::in_tenant("", id)
    }

    /// The subject `id` of `tenant`.
    pub fn in_tenant(tenant: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            id: id.into(),
        }
    }

    /// The tenant (`""` without tenants).
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The subject's id within its tenant.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// `id`, or `tenant/id` when there is a tenant; both quoted, so empty or odd ids stay visible.
impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tenant.is_empty() {
            write!(f, "{:?}", self.id)
        } else {
            write!(f, "{:?}/{:?}", self.tenant, self.id)
        }
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({self})")
    }
}
