//! The SQLite store (DESIGN §5): opening it safely, pragmas, and forward-only migrations.
//! Each table family has its own module: `alerts` (current state, versions, evidence),
//! `events` (email events), `sync` (checkpoints, gaps, sync runs, health).
//!
//! Opening never damages what is there: a file that is not SQLite, not a mailtrail store,
//! corrupt, or written by a newer mailtrail is refused before anything is written to it.

pub mod alerts;
pub mod events;
pub mod fts;
pub mod notes;
pub mod ocsf;
pub mod query;
pub mod retention;
pub mod sync;
pub mod views;

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, ffi};

/// `PRAGMA application_id` of a mailtrail store: "MTRL".
pub const APPLICATION_ID: i32 = 0x4d54_524c;

/// The migrations, in order; a store's `user_version` is how many have been applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schema/0001_init.sql"),
    include_str!("../../schema/0002_ocsf.sql"),
    include_str!("../../schema/0003_tui_indexes.sql"),
    include_str!("../../schema/0004_fts.sql"),
    include_str!("../../schema/0005_notes.sql"),
    include_str!("../../schema/0006_retention.sql"),
    include_str!("../../schema/0008_triage.sql"),
    include_str!("../../schema/0009_threat_text.sql"),
    include_str!("../../schema/0010_triage_moves.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Why a store cannot be used, each with its fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no store at {path}; run `mailtrail sync` (or `mailtrail demo`) first")]
    Missing { path: String },
    #[error(
        "{path} is empty, not a mailtrail store yet; run `mailtrail sync` (or `mailtrail demo`) to fill it"
    )]
    Empty { path: String },
    #[error(
        "{path} is a directory, not a store; fix: point --db (or [store] path) at a file, e.g. {path}/mailtrail.db"
    )]
    Directory { path: String },
    #[error(
        "{path} is not a SQLite database; fix: point --db (or [store] path) at a mailtrail store or a new file name (the file was left untouched)"
    )]
    NotSqlite { path: String },
    #[error(
        "{path} is a SQLite database but not a mailtrail store; fix: use another --db path (the file was left untouched)"
    )]
    Foreign { path: String },
    #[error(
        "{path} was written by a newer mailtrail (store schema v{found}, this build knows v{known}); fix: upgrade mailtrail (the file was left untouched)"
    )]
    Newer {
        path: String,
        found: i32,
        known: i32,
    },
    #[error(
        "{path} was written by an older mailtrail (store schema v{found}, this build writes v{known}); fix: run `mailtrail sync` once to upgrade it (reading commands never change the file)"
    )]
    Outdated {
        path: String,
        found: i32,
        known: i32,
    },
    #[error(
        "{path} is damaged ({detail}); fix: restore it from a backup or move it aside and sync again (the file was left untouched)"
    )]
    Corrupt { path: String, detail: String },
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("store {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
}

impl From<StoreError> for crate::Failure {
    fn from(e: StoreError) -> Self {
        crate::Failure::runtime(e.to_string())
    }
}

/// An open store (one connection). Cheap operations take `&self`; writers take `&mut self`
/// to run transactions.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn sqlite_err(path: &Path, e: rusqlite::Error) -> StoreError {
    let shown = path.display().to_string();
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt {
                path: shown,
                detail: e.to_string(),
            }
        }
        _ => StoreError::Sqlite {
            path: shown,
            source: e,
        },
    }
}

/// Refuses a non-empty file that does not start with SQLite's header, before SQLite reads
/// (and would call it damaged) or writes anything.
fn check_header(mut file: std::fs::File, shown: &str) -> Result<(), StoreError> {
    let mut header = [0u8; 16];
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > 0
        && (len < 100 || file.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0")
    {
        return Err(StoreError::NotSqlite {
            path: shown.to_string(),
        });
    }
    Ok(())
}

/// One write transaction spanning several ingests (`import` stores all its batches in one, so
/// a failure midway stores nothing). Dropping it without [`WriteTransaction::commit`] rolls
/// everything back. It holds the store's write lock until then.
pub struct WriteTransaction<'s> {
    tx: rusqlite::Transaction<'s>,
    path: &'s Path,
}

impl WriteTransaction<'_> {
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().map_err(|e| sqlite_err(self.path, e))
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Opens (creating it with mode 0600 if missing) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // Opening races with other openers (the header, the switch to WAL) can report "locked"
        // without waiting on the busy handler; those clear within moments, so try again.
        let mut attempt = 0;
        loop {
            match Store::open_once(path) {
                Err(StoreError::Sqlite { source, .. }) if is_locked(&source) && attempt < 100 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        if path.is_dir() {
            return Err(StoreError::Directory { path: shown });
        }
        // Create the file ourselves so it starts as 0600 (SQLite gives -wal and -shm the
        // main file's mode), and look at its header before SQLite may write anything.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|source| StoreError::Io {
                path: shown.clone(),
                source,
            })?;
        check_header(file, &shown)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| sqlite_err(path, e))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(|e| sqlite_err(path, e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.check_identity()?;
        store.migrate()?;
        store.set_pragmas()?;
        Ok(store)
    }

    /// Opens a store that must exist already, for writing (migrating it if needed): for the
    /// commands that change what is stored but never start a store (`notes`, `remap`, `prune`).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        Store::open(path)
    }

    /// Opens an existing store read-only (for `query`, `status`, the dashboard). Never creates
    /// or migrates; refuses what [`Store::open`] refuses.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(StoreError::Missing { path: shown });
        }
        if path.is_dir() {
            return Err(StoreError::Directory { path: shown });
        }
        let file = std::fs::File::open(path).map_err(|source| StoreError::Io {
            path: shown.clone(),
            source,
        })?;
        check_header(file, &shown)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sqlite_err(path, e))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(|e| sqlite_err(path, e))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.check_identity()?;
        let version: i32 = store.pragma_i32("user_version")?;
        if version == 0 {
            // A file no mailtrail has written to (check_identity let it through: no tables).
            return Err(StoreError::Empty { path: shown });
        }
        if version < SCHEMA_VERSION {
            return Err(StoreError::Outdated {
                path: shown,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    fn pragma_i32(&self, name: &str) -> Result<i32, StoreError> {
        self.conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(|e| sqlite_err(&self.path, e))
    }

    /// Refuses files that are not ours, or from a newer mailtrail, without writing anything.
    fn check_identity(&self) -> Result<(), StoreError> {
        let shown = self.path.display().to_string();
        // One statement, one snapshot: another process may be creating the store meanwhile.
        let (app_id, version, tables): (i32, i32, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id()),
                        (SELECT user_version FROM pragma_user_version()),
                        (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| sqlite_err(&self.path, e))?;
        if app_id == 0 && version == 0 && tables == 0 {
            return Ok(()); // a new, empty file
        }
        if app_id != APPLICATION_ID {
            return Err(StoreError::Foreign { path: shown });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                path: shown,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    fn set_pragmas(&self) -> Result<(), StoreError> {
        // recursive_triggers: a row that INSERT OR REPLACE deletes must leave the full-text
        // indexes too (their delete triggers, schema/0004_fts.sql, fire only with it on).
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA recursive_triggers = ON;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA cache_size = -65536;
                 PRAGMA journal_size_limit = 67108864;",
            )
            .map_err(|e| sqlite_err(&self.path, e))
    }

    /// Applies the missing migrations in one transaction. Several processes may open a new
    /// store at once: the version is read again under the write lock, so exactly one migrates.
    fn migrate(&mut self) -> Result<(), StoreError> {
        if self.pragma_i32("user_version")? >= SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        // Incremental vacuum can only be chosen before the file's first page is written, which
        // a write transaction does at once: choose it before. (For a file that already has
        // tables, or that another opener creates meanwhile, SQLite ignores this.)
        // 16 KiB pages, chosen the same way: an OCSF Email Activity (≈2.6 KB) fills most of a
        // 4 KiB page alone, so bigger pages store ≈25 % fewer bytes and ingest faster. (The
        // page size must come first: setting auto_vacuum fixes it.)
        self.conn
            .execute_batch("PRAGMA page_size = 16384; PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(|e| sqlite_err(&path, e))?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sqlite_err(&path, e))?;
        let current: i32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sqlite_err(&path, e))?;
        if current >= SCHEMA_VERSION {
            return Ok(());
        }
        if current > 0 {
            // Some migrations rebuild an index over every stored row (~15 s at a million).
            tracing::warn!(
                "store {}: upgrading from schema v{current} to v{SCHEMA_VERSION}, once; a large store takes a minute",
                path.display()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql).map_err(|e| sqlite_err(&path, e))?;
            tracing::info!("store {}: applied migration {}", path.display(), i + 1);
        }
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
        ))
        .map_err(|e| sqlite_err(&path, e))?;
        tx.commit().map_err(|e| sqlite_err(&path, e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Begins a [`WriteTransaction`] (`BEGIN IMMEDIATE`, as every single ingest does).
    pub fn begin_write(&mut self) -> Result<WriteTransaction<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sqlite_err(&self.path, e))?;
        Ok(WriteTransaction {
            tx,
            path: &self.path,
        })
    }

    /// Wraps a rusqlite error with this store's path.
    pub fn err(&self, e: rusqlite::Error) -> StoreError {
        sqlite_err(&self.path, e)
    }

    /// The store's schema version.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        self.pragma_i32("user_version")
    }
}

/// True when SQLite reports the database as busy or locked (should not happen in WAL mode with
/// a busy timeout; tests assert it never reaches a reader).
pub fn is_locked(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(
            ffi::Error {
                code: ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked,
                ..
            },
            _
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_0600_wal_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/m.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let wal = std::fs::metadata(dir.path().join("sub/m.db-wal"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(wal, 0o600, "WAL inherits the main file's mode");
        let jm: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(jm, "wal");
        drop(store);
        Store::open(&path).unwrap(); // reopening is a no-op
    }

    #[test]
    fn many_openers_of_a_new_store_race_safely() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("r{round}.db"));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let p = path.clone();
                    std::thread::spawn(move || {
                        Store::open(&p).map(|_| ()).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap().unwrap();
            }
        }
    }

    #[test]
    fn foreign_files_are_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello, this is not a database at all, but it is long enough to look like one maybe.......").unwrap();
        let before = std::fs::read(&text).unwrap();
        assert!(matches!(
            Store::open(&text),
            Err(StoreError::NotSqlite { .. })
        ));
        assert_eq!(std::fs::read(&text).unwrap(), before);

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        let before = std::fs::read(&other).unwrap();
        let e = Store::open(&other).err().unwrap();
        assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
        assert!(e.to_string().contains("not a mailtrail store"));
        assert_eq!(std::fs::read(&other).unwrap(), before);
    }

    #[test]
    fn an_older_store_opened_read_only_says_how_to_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 1;")
            .unwrap();
        let e = Store::open_read_only(&path).err().unwrap();
        assert!(matches!(e, StoreError::Outdated { found: 1, .. }), "{e}");
        assert!(e.to_string().contains("run `mailtrail sync` once"), "{e}");
    }

    #[test]
    fn an_empty_file_opened_read_only_is_not_called_older() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.db");
        std::fs::write(&path, b"").unwrap();
        let e = Store::open_read_only(&path).err().unwrap();
        assert!(matches!(e, StoreError::Empty { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("is empty, not a mailtrail store yet"),
            "{e}"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left untouched");
    }

    #[test]
    fn newer_and_corrupt_stores_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.db");
        drop(Store::open(&newer).unwrap());
        Connection::open(&newer)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99;")
            .unwrap();
        let e = Store::open(&newer).err().unwrap();
        assert!(e.to_string().contains("newer mailtrail"), "{e}");

        let corrupt = dir.path().join("corrupt.db");
        drop(Store::open(&corrupt).unwrap());
        let mut bytes = std::fs::read(&corrupt).unwrap();
        for b in bytes.iter_mut().skip(100).take(4000) {
            *b = 0xA5;
        }
        std::fs::write(&corrupt, &bytes).unwrap();
        let _ = std::fs::remove_file(dir.path().join("corrupt.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("corrupt.db-shm"));
        let e = Store::open(&corrupt).err().unwrap();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert_eq!(std::fs::read(&corrupt).unwrap(), bytes, "left untouched");
    }
}
