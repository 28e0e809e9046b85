//! The connection behind `mailtrail query`: the store opened read-only, the public views of
//! `query_views.sql` made as TEMP views on it, and three independent locks against writes:
//!
//! 1. the file is opened with `SQLITE_OPEN_READ_ONLY` ([`Store::open_read_only`]);
//! 2. an authorizer allows only reads, functions and introspection pragmas, and refuses
//!    everything else (writes, schema changes, ATTACH/DETACH, transactions, setting pragmas)
//!    while the statement is prepared, before any of it runs;
//! 3. `PRAGMA query_only = ON`, and `sqlite3_stmt_readonly` checked before the first step.
//!
//! One statement per query: a string holding several is refused, after each of them has been
//! checked, so a write hidden behind a SELECT is named as a write.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Batch, Statement};

use super::{Store, StoreError};

/// The view definitions (documented column by column in docs/query.md).
pub const VIEWS_SQL: &str = include_str!("query_views.sql");

/// The public views, in the order docs/query.md presents them.
pub const VIEWS: &[&str] = &[
    "threats",
    "evidence",
    "email_events",
    "urls",
    "ocsf_events",
    "sync_runs",
];

/// Pragmas that only report; those marked `true` take an argument that names what to report on.
const REPORTING_PRAGMAS: &[(&str, bool)] = &[
    ("application_id", false),
    ("collation_list", false),
    ("compile_options", false),
    ("data_version", false),
    ("database_list", false),
    ("encoding", false),
    ("foreign_key_list", true),
    ("freelist_count", false),
    ("function_list", false),
    ("index_info", true),
    ("index_list", true),
    ("index_xinfo", true),
    ("journal_mode", false),
    ("module_list", false),
    ("page_count", false),
    ("page_size", false),
    ("pragma_list", false),
    ("schema_version", false),
    ("table_info", true),
    ("table_list", true),
    ("table_xinfo", true),
    ("user_version", false),
];

/// Why a query was not run. Everything but `Store` is the user's to fix (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(
        "query: refused, mailtrail query is read-only ({what}); use a SELECT over the views in docs/query.md"
    )]
    Refused { what: String },
    #[error(
        "query: refused, one statement per query ({count} given); run them one by one with separate `mailtrail query` calls"
    )]
    SeveralStatements { count: usize },
    #[error(
        "query: no SQL statement given; fix: pass a SELECT over the views ({}), e.g. mailtrail query \"SELECT * FROM threats LIMIT 5\"",
        VIEWS.join(", ")
    )]
    Empty,
    #[error(
        "query: {message}; the views are {} (`mailtrail query --views` lists their columns, docs/query.md explains them)",
        VIEWS.join(", ")
    )]
    Sql { message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<QueryError> for crate::Failure {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Store(e) => e.into(),
            other => crate::Failure::usage(other.to_string()),
        }
    }
}

/// The first thing the authorizer refused while the current statement was prepared, so the
/// refusal can be named instead of SQLite's generic "not authorized".
type Refusal = Arc<Mutex<Option<String>>>;

/// A read-only connection with the public views, ready for one user statement at a time.
pub struct QueryStore {
    store: Store,
    refusal: Refusal,
}

impl QueryStore {
    /// Opens the store at `path` for queries. The file is never written: the views live in the
    /// connection's in-memory temp schema.
    pub fn open(path: &Path) -> Result<QueryStore, QueryError> {
        let mut store = Store::open_read_only(path)?;
        store
            .conn()
            .execute_batch("PRAGMA temp_store = MEMORY;")
            .and_then(|()| store.conn().execute_batch(VIEWS_SQL))
            .and_then(|()| store.conn().execute_batch("PRAGMA query_only = ON;"))
            .map_err(|e| store.err(e))?;
        let refusal = Refusal::default();
        let seen = refusal.clone();
        store
            .conn_mut()
            .authorizer(Some(move |ctx: AuthContext<'_>| match judge(&ctx.action) {
                Ok(()) => Authorization::Allow,
                Err(what) => {
                    let mut slot = seen.lock().unwrap_or_else(PoisonError::into_inner);
                    slot.get_or_insert(what);
                    Authorization::Deny
                }
            }))
            .map_err(|e| store.err(e))?;
        Ok(QueryStore { store, refusal })
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Prepares `sql`, which must be exactly one read-only statement. Every statement in the
    /// string is checked before the answer, so a write after a SELECT is refused as a write.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>, QueryError> {
        let mut batch = Batch::new(self.store.conn(), sql);
        let mut first = None;
        let mut count = 0;
        loop {
            self.take_refusal();
            let next = match batch.next() {
                Ok(next) => next,
                Err(e) => {
                    return Err(match self.take_refusal() {
                        Some(what) => QueryError::Refused { what },
                        None => sql_error(e),
                    });
                }
            };
            let Some(stmt) = next else { break };
            if !stmt.readonly() {
                return Err(QueryError::Refused {
                    what: format!("`{}` writes", leading_words(stmt.expanded_sql().as_deref())),
                });
            }
            count += 1;
            first.get_or_insert(stmt);
        }
        match (first, count) {
            (None, _) => Err(QueryError::Empty),
            (Some(stmt), 1) => Ok(stmt),
            (Some(_), count) => Err(QueryError::SeveralStatements { count }),
        }
    }

    fn take_refusal(&self) -> Option<String> {
        self.refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// A SQLite error met while preparing or running a user's statement, as the user's to fix.
pub fn sql_error(e: rusqlite::Error) -> QueryError {
    if let Some(what) = refusal_by_sqlite(&e) {
        return QueryError::Refused { what };
    }
    let message = match &e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    QueryError::Sql { message }
}

/// Writes that SQLite itself stops before asking the authorizer (a change to a view, a
/// disabled function), named as refusals rather than as mistakes in the SQL.
fn refusal_by_sqlite(e: &rusqlite::Error) -> Option<String> {
    let rusqlite::Error::SqliteFailure(_, Some(message)) = e else {
        return None;
    };
    if let Some(view) = message
        .strip_prefix("cannot modify ")
        .and_then(|rest| rest.strip_suffix(" because it is a view"))
    {
        return Some(format!("{view} is a view and cannot be changed"));
    }
    (message == "not authorized").then(|| "SQLite does not allow it in a query".to_string())
}

/// The first two words of a statement, for naming it in a refusal.
fn leading_words(sql: Option<&str>) -> String {
    let words: Vec<&str> = sql.unwrap_or_default().split_whitespace().take(2).collect();
    words.join(" ").to_uppercase()
}

fn is_schema_table(name: &str) -> bool {
    [
        "sqlite_master",
        "sqlite_temp_master",
        "sqlite_schema",
        "sqlite_temp_schema",
    ]
    .iter()
    .any(|t| name.eq_ignore_ascii_case(t))
}

/// Whether the authorizer lets `action` into a query: reads, functions and reporting pragmas
/// pass; anything else comes back as what it would have done.
fn judge(action: &AuthAction<'_>) -> Result<(), String> {
    use AuthAction as A;
    let refused = |what: &str| Err(what.to_string());
    match *action {
        A::Select | A::Read { .. } | A::Function { .. } | A::Recursive => Ok(()),
        A::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            let reporting = REPORTING_PRAGMAS
                .iter()
                .find(|(n, _)| *n == name)
                .is_some_and(|(_, takes_argument)| pragma_value.is_none() || *takes_argument);
            match pragma_value {
                _ if reporting => Ok(()),
                Some(value) => Err(format!("PRAGMA {name} = {value} changes a setting")),
                None => Err(format!("PRAGMA {name} is not one that only reports")),
            }
        }
        // CREATE, DROP and ANALYZE ask to write the schema table before anything else.
        A::Insert { table_name } | A::Update { table_name, .. } | A::Delete { table_name }
            if is_schema_table(table_name) =>
        {
            refused("CREATE, DROP and ANALYZE change the schema")
        }
        A::Insert { table_name } => Err(format!("INSERT INTO {table_name} writes")),
        A::Update { table_name, .. } => Err(format!("UPDATE {table_name} writes")),
        A::Delete { table_name } => Err(format!("DELETE FROM {table_name} writes")),
        A::Attach { .. } => refused("ATTACH opens another database file"),
        A::Detach { .. } => refused("DETACH changes the open databases"),
        A::Transaction { .. } | A::Savepoint { .. } => {
            refused("transaction control is not needed: a query reads one consistent snapshot")
        }
        A::CreateTable { .. }
        | A::CreateTempTable { .. }
        | A::CreateIndex { .. }
        | A::CreateTempIndex { .. }
        | A::CreateTrigger { .. }
        | A::CreateTempTrigger { .. }
        | A::CreateView { .. }
        | A::CreateTempView { .. }
        | A::CreateVtable { .. } => refused("CREATE changes the schema"),
        A::DropTable { .. }
        | A::DropTempTable { .. }
        | A::DropIndex { .. }
        | A::DropTempIndex { .. }
        | A::DropTrigger { .. }
        | A::DropTempTrigger { .. }
        | A::DropView { .. }
        | A::DropTempView { .. }
        | A::DropVtable { .. } => refused("DROP changes the schema"),
        A::AlterTable { .. } => refused("ALTER TABLE changes the schema"),
        A::Reindex { .. } => refused("REINDEX rewrites indexes"),
        A::Analyze { .. } => refused("ANALYZE writes statistics"),
        _ => refused("the statement does something other than read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_store() -> (tempfile::TempDir, QueryStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        drop(Store::open(&path).unwrap());
        let q = QueryStore::open(&path).unwrap();
        (dir, q)
    }

    #[test]
    fn every_view_prepares_on_an_empty_store() {
        let (_dir, q) = query_store();
        for view in VIEWS {
            let mut stmt = q.prepare(&format!("SELECT * FROM {view}")).unwrap();
            assert!(stmt.query([]).unwrap().next().unwrap().is_none(), "{view}");
        }
    }

    #[test]
    fn reporting_pragmas_pass_and_setting_ones_are_named() {
        let (_dir, q) = query_store();
        q.prepare("PRAGMA table_info(threats)").unwrap();
        q.prepare("SELECT name FROM pragma_table_info('urls')")
            .unwrap();
        q.prepare("PRAGMA user_version").unwrap();
        let e = q.prepare("PRAGMA user_version = 9").err().unwrap();
        assert!(
            e.to_string()
                .contains("(PRAGMA user_version = 9 changes a setting)"),
            "{e}"
        );
        let e = q.prepare("PRAGMA optimize").err().unwrap();
        assert!(matches!(e, QueryError::Refused { .. }), "{e}");
    }

    #[test]
    fn a_refusal_does_not_leak_into_the_next_statement() {
        let (_dir, q) = query_store();
        assert!(q.prepare("DELETE FROM alerts").is_err());
        let e = q.prepare("SELECT nope FROM threats").err().unwrap();
        assert!(matches!(e, QueryError::Sql { .. }), "{e}");
        assert!(e.to_string().contains("no such column: nope"), "{e}");
    }

    #[test]
    fn empty_and_comment_only_input_asks_for_a_statement() {
        let (_dir, q) = query_store();
        for sql in ["", "  ;  ", "-- nothing\n"] {
            assert!(matches!(q.prepare(sql), Err(QueryError::Empty)), "{sql:?}");
        }
        q.prepare("SELECT 1; -- trailing comment\n").unwrap();
    }
}
