//! The error answers each kind of route can give, declared once for the OpenAPI document.

use utoipa::IntoResponses;

use crate::problem::Problem;

/// Errors of a route that reads.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum ReadErrors {
    #[response(
        status = 400,
        description = "A malformed id or query parameter",
        content_type = "application/problem+json"
    )]
    BadRequest(#[to_schema] Problem),
    #[response(
        status = 401,
        description = "No valid bearer token",
        content_type = "application/problem+json"
    )]
    Unauthorized(#[to_schema] Problem),
    #[response(
        status = 403,
        description = "The token's role is too weak",
        content_type = "application/problem+json"
    )]
    Forbidden(#[to_schema] Problem),
    #[response(
        status = 404,
        description = "No record has this id",
        content_type = "application/problem+json"
    )]
    NotFound(#[to_schema] Problem),
    #[response(
        status = 422,
        description = "A query parameter is out of range",
        content_type = "application/problem+json"
    )]
    Invalid(#[to_schema] Problem),
    #[response(
        status = 500,
        description = "The server failed",
        content_type = "application/problem+json"
    )]
    Internal(#[to_schema] Problem),
    #[response(
        status = 503,
        description = "The database is busy",
        content_type = "application/problem+json"
    )]
    Unavailable(#[to_schema] Problem),
}

/// Errors of a route that changes something.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum WriteErrors {
    #[response(
        status = 400,
        description = "Malformed JSON, id or parameter",
        content_type = "application/problem+json"
    )]
    BadRequest(#[to_schema] Problem),
    #[response(
        status = 401,
        description = "No valid bearer token",
        content_type = "application/problem+json"
    )]
    Unauthorized(#[to_schema] Problem),
    #[response(
        status = 403,
        description = "The token's role is too weak",
        content_type = "application/problem+json"
    )]
    Forbidden(#[to_schema] Problem),
    #[response(
        status = 404,
        description = "No record has this id",
        content_type = "application/problem+json"
    )]
    NotFound(#[to_schema] Problem),
    #[response(
        status = 409,
        description = "Illegal state change, or a conflict with existing records",
        content_type = "application/problem+json"
    )]
    Conflict(#[to_schema] Problem),
    #[response(
        status = 413,
        description = "The body exceeds the configured limit",
        content_type = "application/problem+json"
    )]
    TooLarge(#[to_schema] Problem),
    #[response(
        status = 415,
        description = "The body is not application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(#[to_schema] Problem),
    #[response(
        status = 422,
        description = "A field has the wrong type, is unknown, missing or out of range",
        content_type = "application/problem+json"
    )]
    Invalid(#[to_schema] Problem),
    #[response(
        status = 500,
        description = "The server failed",
        content_type = "application/problem+json"
    )]
    Internal(#[to_schema] Problem),
    #[response(
        status = 503,
        description = "The database is busy",
        content_type = "application/problem+json"
    )]
    Unavailable(#[to_schema] Problem),
}
