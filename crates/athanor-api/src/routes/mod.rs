//! The HTTP routes, one module per resource, and what they share: ids in paths and paging.

pub mod campaigns;
pub mod events;
pub mod experiments;
pub mod health;
pub mod hypotheses;
pub mod instruments;
pub mod measurements;
pub mod samples;
pub mod tokens;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use athanor_store::{Page, PageRequest};

use crate::problem::ApiError;

/// Paging parameters shared by every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Records per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        page_request(self.limit, self.cursor.clone())
    }
}

/// Checks paging parameters (used by lists whose query has more filters than [`PageQuery`]).
pub fn page_request(limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    {
        let limit = match limit {
            None => PageRequest::DEFAULT_LIMIT,
            Some(n) if (1..=PageRequest::MAX_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(ApiError::invalid(
                    "limit",
                    format!("limit {n} must lie between 1 and 500"),
                ))
            }
        };
        Ok(PageRequest {
            after: cursor,
            limit,
        })
    }
}

/// One page of a list and the cursor of the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for PageOf<T> {
    fn from(p: Page<T>) -> Self {
        Self {
            items: p.items,
            next_cursor: p.next_cursor,
        }
    }
}

/// Parses a UUID path segment into a typed id, or answers 400 naming the parameter.
pub fn parse_id<T: std::str::FromStr>(raw: &str, field: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::malformed(format!("`{raw}` is not a valid {field}")).with_field(field.to_owned())
    })
}
