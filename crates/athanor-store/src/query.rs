//! A small builder for the filtered, keyset-paginated SELECTs that every list method runs.

use uuid::Uuid;

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
                $crate::query::Bind::Uuid(u) => q.bind(*u),
                $crate::query::Bind::Text(s) => q.bind(s.clone()),
                $crate::query::Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

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
}
