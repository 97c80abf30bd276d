//! Who is calling, and what they may do.
//!
//! The `authenticate` middleware turns credentials (session cookie, basic auth, bearer token) into an
//! [`Identity`] in the request's extensions. Handlers state the role they need in their signature
//! with an extractor — [`SignedIn`], [`Viewer`], [`Editor`], [`OrgAdmin`], [`ServerAdmin`] — so every
//! route's guard is visible where the route is defined.

pub mod middleware;
pub mod password;
pub mod session;
pub mod tokens;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pharos_store::Role;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    User(i64),
    ServiceAccount(i64),
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Identity {
    pub principal: Principal,
    pub login: String,
    pub name: String,
    pub email: String,
    /// The org the request acts in.
    pub org_id: i64,
    /// The role in that org; `None` when the user is not (or no longer) a member.
    pub role: Option<Role>,
    pub is_server_admin: bool,
    /// The session this request came with, when it came with a cookie.
    pub session_id: Option<i64>,
}

impl Identity {
    /// A user acting in their current org with `role` there (from a password or a session).
    pub fn for_user(
        user: pharos_store::User,
        role: Option<Role>,
        session_id: Option<i64>,
    ) -> Identity {
        Identity {
            principal: Principal::User(user.id),
            login: user.login,
            name: user.name,
            email: user.email,
            org_id: user.org_id,
            role,
            is_server_admin: user.is_admin,
            session_id,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self.principal {
            Principal::User(id) => Some(id),
            Principal::ServiceAccount(_) => None,
        }
    }

    /// The name recorded as the author of writes (`createdBy`, `updatedBy`).
    pub fn actor(&self) -> &str {
        &self.login
    }

    pub fn has_role(&self, needed: Role) -> bool {
        self.role.is_some_and(|r| r >= needed)
    }
}

fn identity(parts: &Parts) -> Result<Identity, ApiError> {
    parts
        .extensions
        .get::<Identity>()
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("Unauthorized"))
}

fn with_role(parts: &Parts, needed: Role) -> Result<Identity, ApiError> {
    let id = identity(parts)?;
    if id.has_role(needed) {
        Ok(id)
    } else {
        Err(ApiError::forbidden(format!(
            "Permission denied: this action needs the {} role",
            needed.as_str()
        )))
    }
}

macro_rules! guard {
    ($(#[$doc:meta])* $name:ident, |$parts:ident| $check:expr) => {
        $(#[$doc])*
        pub struct $name(pub Identity);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts($parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
                $check.map($name)
            }
        }
    };
}

guard!(
    /// Any authenticated caller, member of an org or not.
    SignedIn,
    |parts| identity(parts)
);
guard!(
    /// Reads the org's dashboards and folders.
    Viewer,
    |parts| with_role(parts, Role::Viewer)
);
guard!(
    /// Writes dashboards and folders.
    Editor,
    |parts| with_role(parts, Role::Editor)
);
guard!(
    /// Manages the org: its users, service accounts and (later) datasources.
    OrgAdmin,
    |parts| with_role(parts, Role::Admin)
);
guard!(
    /// An org admin or a server admin: the cluster page is for either.
    AnyAdmin,
    |parts| {
        let id = identity(parts)?;
        if id.is_server_admin || id.has_role(Role::Admin) {
            Ok(id)
        } else {
            Err(ApiError::forbidden(
                "Permission denied: this action needs the Admin role",
            ))
        }
    }
);
guard!(
    /// Grafana's "server admin": manages users across orgs.
    ServerAdmin,
    |parts| {
        let id = identity(parts)?;
        if id.is_server_admin {
            Ok(id)
        } else {
            Err(ApiError::forbidden("Permission denied: this action needs a server admin"))
        }
    }
);
