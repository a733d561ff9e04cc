//! API tokens: issued once in clear, stored as a SHA-256 hash, checked in constant time.
//!
//! A token reads `ath_<id>_<secret>`: the id finds the row, the secret's hash is compared with
//! [`subtle::ConstantTimeEq`], so neither a lookup by secret nor an early-exit comparison leaks it.

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use athanor_core::{EntityKind, NewEvent, Role, TokenId, ValidationError};

use crate::backend::dispatch;
use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::rows::parse_name;
use crate::Store;

/// A token as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRecord {
    pub id: TokenId,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly issued token; `secret` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub record: TokenRecord,
    pub token: String,
}

type TokenRow = (
    Uuid,
    String,
    String,
    Vec<u8>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn record(row: TokenRow) -> Result<(TokenRecord, Vec<u8>)> {
    let (id, name, role, secret_hash, created_at, revoked_at) = row;
    Ok((
        TokenRecord {
            id: id.into(),
            name,
            role: parse_name("token role", &role)?,
            created_at,
            revoked_at,
        },
        secret_hash,
    ))
}

/// Splits `ath_<32 hex id>_<secret>`.
fn split(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.strip_prefix("ath_")?;
    let (id, secret) = rest.split_once('_')?;
    if secret.is_empty() {
        return None;
    }
    Some((Uuid::try_parse(id).ok()?, secret))
}

impl Store {
    /// Issues a token with a unique name.
    pub async fn create_token(&self, name: &str, role: Role, actor: &str) -> Result<IssuedToken> {
        if name.trim().is_empty()
            || name.chars().count() > 100
            || name.chars().any(char::is_control)
        {
            return Err(ValidationError::new("name", "must be 1–100 printable characters").into());
        }
        let id = TokenId::new();
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        let token = format!("ath_{}_{secret}", id.0.simple());
        let now = Utc::now();
        let event = NewEvent {
            campaign_id: None,
            entity: EntityKind::Token,
            entity_id: id.to_string(),
            kind: "token.created".into(),
            actor: actor.to_owned(),
            payload: json!({ "name": name, "role": role }),
        };
        write_with_event!(self, now, |tx, _lock| {
            let inserted = sqlx::query("INSERT INTO tokens (id, name, role, secret_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)")
                .bind(id.0)
                .bind(name)
                .bind(role.as_str())
                .bind(hash(&secret))
                .bind(now)
                .execute(&mut *tx)
                .await;
            match inserted {
                Err(e) if StoreError::is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "a token named `{name}` exists already"
                    )))
                }
                other => other?,
            };
            event
        });
        Ok(IssuedToken {
            record: TokenRecord {
                id,
                name: name.to_owned(),
                role,
                created_at: now,
                revoked_at: None,
            },
            token,
        })
    }

    /// The live token a bearer string names, or `None` if it is unknown, wrong or revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenRecord>> {
        let Some((id, secret)) = split(token) else {
            return Ok(None);
        };
        let row: Option<TokenRow> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as("SELECT id, name, role, secret_hash, created_at, revoked_at FROM tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let Some(row) = row else { return Ok(None) };
        let (rec, stored_hash) = record(row)?;
        let matches: bool = hash(secret).ct_eq(&stored_hash).into();
        Ok((matches && rec.revoked_at.is_none()).then_some(rec))
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows: Vec<TokenRow> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as("SELECT id, name, role, secret_hash, created_at, revoked_at FROM tokens ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|r| record(r).map(|(rec, _)| rec))
            .collect()
    }

    /// Revokes a token; revoking twice is a conflict.
    pub async fn revoke_token(&self, id: TokenId, actor: &str) -> Result<TokenRecord> {
        let now = Utc::now();
        let revoked;
        write_with_event!(self, now, |tx, _lock| {
            let row: Option<TokenRow> =
                sqlx::query_as("SELECT id, name, role, secret_hash, created_at, revoked_at FROM tokens WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (mut rec, _) =
                record(row.ok_or_else(|| StoreError::not_found(EntityKind::Token, id))?)?;
            if rec.revoked_at.is_some() {
                return Err(StoreError::Conflict(format!(
                    "token `{}` is already revoked",
                    rec.name
                )));
            }
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            rec.revoked_at = Some(now);
            let payload = json!({ "name": rec.name });
            revoked = rec;
            NewEvent {
                campaign_id: None,
                entity: EntityKind::Token,
                entity_id: id.to_string(),
                kind: "token.revoked".into(),
                actor: actor.to_owned(),
                payload,
            }
        });
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape_is_checked_before_any_lookup() {
        assert!(split("ath_0190f1e2c3d4e5f60718293a4b5c6d7e_abc").is_some());
        assert!(split("ath_0190f1e2c3d4e5f60718293a4b5c6d7e_").is_none());
        assert!(split("Bearer x").is_none());
        assert!(split("ath_nothex_abc").is_none());
    }
}
