//! API tokens: issue, list and revoke (admin only). The secret is shown once, at creation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use athanor_core::{Role, TokenId};
use athanor_store::TokenRecord;

use crate::auth::Admin;
use crate::extract::{JsonBody, PathParam};
use crate::problem::ApiResult;
use crate::responses::{ReadErrors, WriteErrors};
use crate::routes::parse_id;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A unique name; it is recorded as the actor of every change made with the token.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    #[schema(value_type = String, format = Uuid)]
    pub id: TokenId,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for TokenInfo {
    fn from(r: TokenRecord) -> Self {
        Self {
            id: r.id,
            name: r.name,
            role: r.role,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenInfo {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token. It is not stored and cannot be shown again.
    pub token: String,
}

/// Issue a token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, description = "Issued; `token` is shown only now", body = IssuedTokenInfo), WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    who: Admin,
    JsonBody(new): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedTokenInfo>)> {
    let issued = s.store.create_token(&new.name, new.role, &who.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenInfo {
            info: issued.record.into(),
            token: issued.token,
        }),
    ))
}

/// List tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, description = "All tokens", body = Vec<TokenInfo>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, _who: Admin) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(
        s.store
            .list_tokens()
            .await?
            .into_iter()
            .map(TokenInfo::from)
            .collect(),
    ))
}

/// Revoke a token; it stops working at once.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "tokens", params(("id" = uuid::Uuid, Path, description = "Token id")),
    responses((status = 200, description = "Revoked", body = TokenInfo), WriteErrors),
    security(("bearer" = [])))]
pub async fn revoke(
    State(s): State<AppState>,
    who: Admin,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<TokenInfo>> {
    let id: TokenId = parse_id(&id, "id")?;
    Ok(Json(s.store.revoke_token(id, &who.name).await?.into()))
}
