//! A small builder for the filtered, keyset-paginated SELECTs that every list method runs.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::backend::dispatch;
use crate::error::Result;
use crate::Store;

/// A value bound to a numbered parameter.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Uuid(Uuid),
    Text(String),
    Int(i64),
}

/// `SELECT … WHERE <filters> ORDER BY <key> LIMIT n` with `$n` parameters numbered in order.
#[derive(Debug)]
pub(crate) struct Select {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Select {
    pub fn from(columns: &str, table: &str) -> Self {
        Self {
            sql: format!("SELECT {columns} FROM {table} WHERE 1=1"),
            binds: Vec::new(),
        }
    }

    /// Adds `column <op> $n` when a value is given.
    pub fn filter(mut self, column: &str, op: &str, value: Option<Bind>) -> Self {
        if let Some(v) = value {
            self.binds.push(v);
            self.sql += &format!(" AND {column} {op} ${}", self.binds.len());
        }
        self
    }

    pub fn eq(self, column: &str, value: Option<Bind>) -> Self {
        self.filter(column, "=", value)
    }

    /// Adds `column IN ($n, …)`; an empty list matches nothing.
    pub fn any_of(mut self, column: &str, values: impl IntoIterator<Item = Bind>) -> Self {
        let mut params = Vec::new();
        for v in values {
            self.binds.push(v);
            params.push(format!("${}", self.binds.len()));
        }
        if params.is_empty() {
            self.sql += " AND 1=0";
        } else {
            self.sql += &format!(" AND {column} IN ({})", params.join(", "));
        }
        self
    }

    /// Orders by `key` and limits the rows.
    pub fn page(mut self, key: &str, limit: i64) -> Self {
        self.binds.push(Bind::Int(limit));
        self.sql += &format!(" ORDER BY {key} LIMIT ${}", self.binds.len());
        self
    }
}

/// Binds every value of a [`Select`] to a sqlx query, in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                Bind::Uuid(u) => q.bind(*u),
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// A row type that decodes from both backends.
pub(crate) trait AnyRow:
    Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>
{
}

impl<R> AnyRow for R where
    R: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>
{
}

impl Store {
    /// Every row a [`Select`] matches, from the read pool.
    pub(crate) async fn fetch_rows<R: AnyRow>(&self, select: &Select) -> Result<Vec<R>> {
        Ok(dispatch!(self, read, |pool, _lock| {
            bind_all!(sqlx::query_as(&select.sql), &select.binds)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The row of `table` whose `id` is `id`, if any.
    pub(crate) async fn fetch_by_id<R: AnyRow>(
        &self,
        columns: &str,
        table: &str,
        id: Bind,
    ) -> Result<Option<R>> {
        let select = Select::from(columns, table).eq("id", Some(id));
        Ok(self.fetch_rows(&select).await?.pop())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_order() {
        let s = Select::from("id", "t")
            .eq("a", Some(Bind::Int(1)))
            .eq("b", None)
            .filter("id", ">", Some(Bind::Text("x".into())))
            .page("id", 10);
        assert_eq!(
            s.sql,
            "SELECT id FROM t WHERE 1=1 AND a = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        assert_eq!(s.binds.len(), 3);
    }

    #[test]
    fn any_of_lists_one_parameter_per_value_and_none_matches_nothing() {
        let s = Select::from("id", "t")
            .eq("a", Some(Bind::Int(1)))
            .any_of("state", ["x", "y"].map(|v| Bind::Text(v.into())));
        assert_eq!(
            s.sql,
            "SELECT id FROM t WHERE 1=1 AND a = $1 AND state IN ($2, $3)"
        );
        let none = Select::from("id", "t").any_of("state", []);
        assert_eq!(none.sql, "SELECT id FROM t WHERE 1=1 AND 1=0");
    }
}
