//! Bearer-token authentication and role checks, as extractors: a handler that takes
//! `Caller<OPERATOR>` cannot run for a viewer.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use athanor_core::Role;

use crate::problem::ApiError;
use crate::state::{AppState, AuthMode};

pub const VIEWER: u8 = 0;
pub const OPERATOR: u8 = 1;
pub const ADMIN: u8 = 2;

const fn role_of(level: u8) -> Role {
    match level {
        0 => Role::Viewer,
        1 => Role::Operator,
        _ => Role::Admin,
    }
}

/// The authenticated caller, proven to hold at least the role `MIN`.
#[derive(Debug, Clone)]
pub struct Caller<const MIN: u8> {
    /// The token's name; recorded as the actor of every change the request makes.
    pub name: String,
    pub role: Role,
}

impl<const MIN: u8> FromRequestParts<AppState> for Caller<MIN> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let needed = role_of(MIN);
        if state.auth == AuthMode::Disabled {
            return Ok(Self {
                name: "anonymous".into(),
                role: Role::Admin,
            });
        }
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send `Authorization: Bearer <token>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must read `Bearer <token>`")
            })?;
        let record = state
            .store
            .authenticate(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or revoked"))?;
        if record.role < needed {
            return Err(ApiError::forbidden(format!(
                "this needs the {needed} role; token `{}` is {}",
                record.name, record.role
            )));
        }
        Ok(Self {
            name: record.name,
            role: record.role,
        })
    }
}

pub type Viewer = Caller<VIEWER>;
pub type Operator = Caller<OPERATOR>;
pub type Admin = Caller<ADMIN>;
