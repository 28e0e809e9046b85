//! `mailtrail query`: one read-only SQL statement over the public views (docs/query.md),
//! streamed row by row as an aligned table, CSV (RFC 4180) or a JSON array of objects.
//! The read-only connection and its refusals live in `store::query`; this module owns the
//! command and the output shapes.

use std::io::{BufWriter, Read, Write};

use rusqlite::types::ValueRef;

use crate::Failure;
use crate::cli::{GlobalOpts, QueryArgs, QueryFormat};
use crate::config::{self, LoadOptions};
use crate::search::command::{csv_quote, defuse_formula};
use crate::store::query::{QueryError, QueryStore, sql_error};

/// Rows a table shows when no `--limit` is given: a table is for reading, CSV/JSON for the rest.
pub const TABLE_ROWS: u64 = 100;

/// The widest a table column gets, in terminal cells; longer cells end in `…`.
const TABLE_CELL_WIDTH: usize = 48;

/// Lists every view column in definition order (what `--views` runs, through the same checks).
pub const LIST_VIEWS_SQL: &str = "SELECT v.name AS view, c.name AS column
     FROM temp.sqlite_schema v, pragma_table_info(v.name, 'temp') c
     WHERE v.type = 'view' ORDER BY v.rowid, c.cid";

/// What a query wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuerySummary {
    /// Rows written.
    pub rows: u64,
    /// Rows past the limit (counted for tables only, up to [`MORE_CAP`]; CSV and JSON stop
    /// at the limit).
    pub more: u64,
}

/// How many rows past a table's limit are counted: the rest of a large result is never read
/// just to say how large it is.
pub const MORE_CAP: u64 = 10_000;

/// Why writing a result stopped.
enum WriteError {
    Sql(rusqlite::Error),
    Io(std::io::Error),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Sql(e)
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// `mailtrail query`.
pub fn run(global: &GlobalOpts, args: &QueryArgs) -> Result<(), Failure> {
    let cfg = config::load(&LoadOptions::from_process(global))?;
    let sql = match (&args.sql, args.views) {
        (_, true) => LIST_VIEWS_SQL.to_string(),
        (Some(sql), false) if sql == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::usage(format!("query: cannot read SQL from stdin: {e}")))?;
            text
        }
        (Some(sql), false) => sql.clone(),
        (None, false) => return Err(QueryError::Empty.into()),
    };
    let format = args.effective_format();
    // The view list is short and read whole; a user's query shows a table page by default.
    // `--limit 0` means no limit, as in `mailtrail search`.
    let limit = match args.limit {
        Some(0) => Some(u64::MAX),
        limit => limit.or(args.views.then_some(u64::MAX)),
    };
    let store = QueryStore::open(&cfg.store.path)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let summary = write_query(&store, &sql, format, limit, &mut out)?;
    if format == QueryFormat::Table && !global.quiet {
        let rows = match summary.rows {
            1 => "1 row".to_string(),
            n => format!("{n} rows"),
        };
        if summary.more > 0 {
            let more = if summary.more >= MORE_CAP {
                format!("{MORE_CAP}+")
            } else {
                summary.more.to_string()
            };
            eprintln!(
                "{rows}; {more} more rows not shown (raise --limit, or use --format csv or json for all)"
            );
        } else {
            eprintln!("{rows}");
        }
    }
    Ok(())
}

/// Runs `sql` on `store` and writes its rows to `out` in `format`. `limit` caps the rows
/// written (tables: [`TABLE_ROWS`] when `None`). Rows are streamed, never all held at once.
/// A reader that closed `out` early (a pipe into `head`) ends it with [`Failure::output`],
/// which the binary turns into a quiet success.
pub fn write_query(
    store: &QueryStore,
    sql: &str,
    format: QueryFormat,
    limit: Option<u64>,
    out: &mut dyn Write,
) -> Result<QuerySummary, Failure> {
    let mut stmt = store.prepare(sql)?;
    let columns: Vec<String> = stmt.column_names().map(String::from).collect();
    let result = match stmt.query([]) {
        Err(e) => Err(WriteError::Sql(e)),
        Ok(mut rows) => match format {
            QueryFormat::Csv => write_csv(&columns, &mut rows, limit, out),
            QueryFormat::Json => write_json(&columns, &mut rows, limit, out),
            QueryFormat::Table => {
                write_table(&columns, &mut rows, limit.unwrap_or(TABLE_ROWS), out)
            }
        },
    };
    let result = result.and_then(|summary| {
        out.flush()?;
        Ok(summary)
    });
    match result {
        Ok(summary) => Ok(summary),
        Err(WriteError::Io(e)) => Err(Failure::output("the query result", e)),
        Err(WriteError::Sql(e)) if is_store_trouble(&e) => Err(Failure::runtime(format!(
            "query: reading {} failed: {e}; fix: run `mailtrail doctor`",
            store.path().display()
        ))),
        Err(WriteError::Sql(e)) => Err(sql_error(e).into()),
    }
}

/// Errors that come from the file or the machine rather than from the statement.
fn is_store_trouble(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(
        e.sqlite_error_code(),
        Some(
            C::DatabaseBusy
                | C::DatabaseLocked
                | C::SystemIoFailure
                | C::DatabaseCorrupt
                | C::NotADatabase
                | C::OutOfMemory
                | C::DiskFull
                | C::CannotOpen
        )
    )
}

/// A real as text that stays recognisably real (`3.0`, not `3`).
fn real_text(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        x.to_string()
    }
}

/// A blob as lowercase hex (the store holds none; a user's expression can make one).
fn blob_text(b: &[u8]) -> String {
    b.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A value as the plain text CSV and tables show; NULL is empty.
fn plain_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(x) => real_text(x),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => blob_text(b),
    }
}

fn write_csv_record<'a>(
    out: &mut dyn Write,
    fields: impl Iterator<Item = std::borrow::Cow<'a, str>>,
) -> std::io::Result<()> {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(csv_quote(&field).as_bytes())?;
    }
    // RFC 4180 lines end CRLF.
    out.write_all(b"\r\n")
}

fn write_csv(
    columns: &[String],
    rows: &mut rusqlite::Rows<'_>,
    limit: Option<u64>,
    out: &mut dyn Write,
) -> Result<QuerySummary, WriteError> {
    write_csv_record(out, columns.iter().map(|c| c.as_str().into()))?;
    let mut summary = QuerySummary::default();
    while limit.is_none_or(|l| summary.rows < l) {
        let Some(row) = rows.next()? else { break };
        let mut fields = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            let value = row.get_ref(i)?;
            let text = plain_text(value);
            // Text may be a sender's formula; a negative number is a number.
            fields.push(match value {
                ValueRef::Text(_) => defuse_formula(&text).into_owned(),
                _ => text,
            });
        }
        write_csv_record(out, fields.into_iter().map(Into::into))?;
        summary.rows += 1;
    }
    Ok(summary)
}

/// JSON object keys: the column names, made unique (`tenant`, `tenant_2`) so no key is lost.
fn json_keys(columns: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(columns.len());
    for name in columns {
        let mut key = name.clone();
        let mut n = 2;
        while keys.contains(&key) {
            key = format!("{name}_{n}");
            n += 1;
        }
        keys.push(key);
    }
    keys
}

fn json_value(v: ValueRef<'_>) -> serde_json::Value {
    use serde_json::Value;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => i.into(),
        // Infinities have no JSON form: null, like NULL.
        ValueRef::Real(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
        // Text stays a string even when it holds JSON (raw, event): parse it downstream.
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(blob_text(b)),
    }
}

fn write_json(
    columns: &[String],
    rows: &mut rusqlite::Rows<'_>,
    limit: Option<u64>,
    out: &mut dyn Write,
) -> Result<QuerySummary, WriteError> {
    let keys: Vec<String> = json_keys(columns)
        .iter()
        .map(|k| serde_json::to_string(k).unwrap_or_default())
        .collect();
    let mut summary = QuerySummary::default();
    out.write_all(b"[")?;
    while limit.is_none_or(|l| summary.rows < l) {
        let Some(row) = rows.next()? else { break };
        out.write_all(if summary.rows == 0 { b"\n{" } else { b",\n{" })?;
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(key.as_bytes())?;
            out.write_all(b":")?;
            serde_json::to_writer(&mut *out, &json_value(row.get_ref(i)?))
                .map_err(std::io::Error::from)?;
        }
        out.write_all(b"}")?;
        summary.rows += 1;
    }
    out.write_all(if summary.rows == 0 { b"]\n" } else { b"\n]\n" })?;
    Ok(summary)
}

use crate::terminal::{fit, width as cells};

fn write_table(
    columns: &[String],
    rows: &mut rusqlite::Rows<'_>,
    limit: u64,
    out: &mut dyn Write,
) -> Result<QuerySummary, WriteError> {
    // A table needs its widths before its first line: hold the shown rows (at most `limit`),
    // already made safe for a terminal, and only count the rest.
    let header: Vec<String> = columns.iter().map(|c| crate::terminal::clean(c)).collect();
    let mut numeric = vec![true; columns.len()];
    let mut shown: Vec<Vec<String>> = Vec::new();
    let mut summary = QuerySummary::default();
    while let Some(row) = rows.next()? {
        if summary.rows >= limit {
            summary.more += 1;
            if summary.more >= MORE_CAP {
                break;
            }
            continue;
        }
        let mut line = Vec::with_capacity(columns.len());
        for (i, is_numeric) in numeric.iter_mut().enumerate() {
            let value = row.get_ref(i)?;
            *is_numeric &= matches!(
                value,
                ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_)
            );
            line.push(fit(
                &crate::terminal::clean(&plain_text(value)),
                TABLE_CELL_WIDTH,
            ));
        }
        shown.push(line);
        summary.rows += 1;
    }
    let header: Vec<String> = header.iter().map(|h| fit(h, TABLE_CELL_WIDTH)).collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            shown
                .iter()
                .map(|line| cells(&line[i]))
                .chain([cells(&header[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let write_line = |out: &mut dyn Write, line: &[String]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(cells(cell)));
            let last = i + 1 == line.len();
            match (numeric[i], last) {
                (true, _) => text.push_str(&format!("{pad}{cell}")),
                (false, true) => text.push_str(cell),
                (false, false) => text.push_str(&format!("{cell}{pad}")),
            }
            if !last {
                text.push_str("  ");
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    write_line(out, &header)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    write_line(out, &rule)?;
    for line in &shown {
        write_line(out, line)?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn query_store() -> (tempfile::TempDir, QueryStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        drop(Store::open(&path).unwrap());
        let store = QueryStore::open(&path).unwrap();
        (dir, store)
    }

    fn output(sql: &str, format: QueryFormat, limit: Option<u64>) -> (String, QuerySummary) {
        let (_dir, store) = query_store();
        let mut out = Vec::new();
        let summary = write_query(&store, sql, format, limit, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    const MIXED: &str = "SELECT 1 AS n, 2.0 AS r, NULL AS missing, 'a,b \"q\"\nline' AS text, x'00ff' AS blob, '{\"k\":1}' AS j";

    #[test]
    fn csv_quotes_what_rfc_4180_says_and_ends_lines_with_crlf() {
        let (text, summary) = output(MIXED, QueryFormat::Csv, None);
        assert_eq!(
            text,
            "n,r,missing,text,blob,j\r\n1,2.0,,\"a,b \"\"q\"\"\nline\",00ff,\"{\"\"k\"\":1}\"\r\n"
        );
        assert_eq!(summary.rows, 1);
    }

    #[test]
    fn csv_defuses_text_a_spreadsheet_would_run_but_not_negative_numbers() {
        let sql = "SELECT '=HYPERLINK(\"http://evil.test\")' AS a, '@SUM(1)' AS b, '-2' AS c, -2 AS d, -2.5 AS e";
        let (text, _) = output(sql, QueryFormat::Csv, None);
        assert_eq!(
            text,
            "a,b,c,d,e\r\n\"'=HYPERLINK(\"\"http://evil.test\"\")\",'@SUM(1),'-2,-2,-2.5\r\n"
        );
    }

    #[test]
    fn json_keeps_types_and_leaves_json_text_a_string() {
        let (text, _) = output(MIXED, QueryFormat::Json, None);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"n": 1, "r": 2.0, "missing": null, "text": "a,b \"q\"\nline", "blob": "00ff", "j": "{\"k\":1}"}])
        );
        let (text, _) = output("SELECT 1 WHERE 0", QueryFormat::Json, None);
        assert_eq!(text, "[]\n");
        let (text, _) = output("SELECT 1 AS a, 2 AS a, 3 AS a_2", QueryFormat::Json, None);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, serde_json::json!([{"a": 1, "a_2": 2, "a_2_2": 3}]));
    }

    #[test]
    fn tables_neutralise_cells_cap_widths_and_count_what_is_not_shown() {
        let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7)
                   SELECT i, char(27) || '[31mred' || char(0x202e) || printf('%.60c', 'x') AS s FROM n";
        let (text, summary) = output(sql, QueryFormat::Table, Some(3));
        assert_eq!(summary, QuerySummary { rows: 3, more: 4 });
        // Past the cap the rest is not read.
        let many = format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) SELECT i FROM n",
            MORE_CAP * 3
        );
        let (_, summary) = output(&many, QueryFormat::Table, Some(3));
        assert_eq!(
            summary,
            QuerySummary {
                rows: 3,
                more: MORE_CAP
            }
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(text.contains("\\x1b[31mred\\u{202e}xx"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + 3, "{text}");
        assert!(lines[0].starts_with("i  s"), "{text}");
        assert!(
            lines[2].starts_with("1  ") && lines[2].ends_with('…'),
            "{text}"
        );
        assert!(
            lines.iter().all(|l| cells(l) <= 1 + 2 + TABLE_CELL_WIDTH),
            "{text}"
        );
    }

    #[test]
    fn csv_and_json_stop_at_the_limit() {
        let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i FROM n";
        let (text, summary) = output(sql, QueryFormat::Csv, Some(5));
        assert_eq!(summary.rows, 5);
        assert_eq!(text.lines().count(), 6);
        let (text, _) = output(sql, QueryFormat::Json, None);
        let v: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(v.len(), 50);
    }

    #[test]
    fn a_runtime_sql_error_is_the_users_to_fix() {
        let (_dir, store) = query_store();
        let e = write_query(
            &store,
            "SELECT json_extract('not json', '$.a')",
            QueryFormat::Json,
            None,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(e.exit_code, 2, "{e}");
        assert!(e.message.contains("malformed JSON"), "{e}");
    }
}
