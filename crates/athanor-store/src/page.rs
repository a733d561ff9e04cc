//! Keyset pagination: a page of records after a cursor, ordered by id (ids sort by creation time).

use serde::Serialize;

/// Which page to read.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// The `next_cursor` of the previous page; `None` for the first page.
    pub after: Option<String>,
    /// Records per page; clamped to 1–500, 50 when zero.
    pub limit: u32,
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 500;
    pub const DEFAULT_LIMIT: u32 = 50;

    pub(crate) fn effective_limit(&self) -> i64 {
        i64::from(match self.limit {
            0 => Self::DEFAULT_LIMIT,
            n => n.min(Self::MAX_LIMIT),
        })
    }
}

/// One page of records and the cursor of the next, if there is one.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only proves there is a next page.
    pub(crate) fn from_overfetch(
        mut items: Vec<T>,
        limit: i64,
        cursor_of: impl Fn(&T) -> String,
    ) -> Self {
        let has_more = items.len() as i64 > limit;
        items.truncate(limit.max(0) as usize);
        let next_cursor = if has_more {
            items.last().map(cursor_of)
        } else {
            None
        };
        Self { items, next_cursor }
    }
}
