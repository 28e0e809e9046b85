//! The subset of KQL the simulator's advanced hunting understands: a table, `where` clauses of
//! comparisons joined by `and` (`Timestamp` against `datetime(…)`/`ago(…)`, other columns
//! against literals), `project`, `order by`/`sort by`, `take`/`limit`. Unknown tables and
//! columns are semantic errors, as in the real service; operators the simulator does not
//! implement are refused plainly rather than silently ignored.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A parse or resolution failure; the text becomes the 400 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KqlError {
    Syntax(String),
    Semantic(String),
}

impl KqlError {
    pub fn message(&self) -> String {
        match self {
            KqlError::Syntax(m) => format!("Syntax error: {m}"),
            KqlError::Semantic(m) => format!("Query has resolution errors: {m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    EqCi,
    NeCi,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison of a non-Timestamp column with a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub column: usize,
    pub op: CmpOp,
    pub value: Literal,
}

/// A time bound on `Timestamp`: the instant and whether it is included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub at: DateTime<Utc>,
    pub inclusive: bool,
}

/// A parsed, resolved hunting query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub table: String,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    pub predicates: Vec<Predicate>,
    /// Column indices to return, in order; `None` = every column.
    pub project: Option<Vec<usize>>,
    /// `Some(true)` = newest first. KQL's `order by` defaults to descending.
    pub descending: Option<bool>,
    pub take: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(i64),
    /// `name(raw text)` — the argument is kept raw (datetime literals are not tokens).
    Call(String, String),
    Op(&'static str),
    Pipe,
    Comma,
}

fn lex(input: &str) -> Result<Vec<Tok>, KqlError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '|' {
            out.push(Tok::Pipe);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '"' || c == '\'' {
            let quote = c;
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(KqlError::Syntax("unterminated string literal".into())),
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(&other) => s.push(other),
                            None => {
                                return Err(KqlError::Syntax("unterminated string literal".into()));
                            }
                        }
                        i += 2;
                    }
                    Some(&ch) if ch == quote => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = text
                .parse()
                .map_err(|_| KqlError::Syntax(format!("number '{text}' is out of range")))?;
            out.push(Tok::Num(n));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'(') {
                let close = chars[j..]
                    .iter()
                    .position(|&ch| ch == ')')
                    .ok_or_else(|| KqlError::Syntax(format!("missing ')' after {name}(")))?;
                let raw: String = chars[j + 1..j + close].iter().collect();
                out.push(Tok::Call(name, raw.trim().to_string()));
                i = j + close + 1;
            } else {
                out.push(Tok::Ident(name));
            }
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "=~", "!~", ">=", "<="]
                .into_iter()
                .find(|o| *o == two)
                .or_else(|| ["<", ">"].into_iter().find(|o| o.starts_with(c)));
            match op {
                Some(o) => {
                    i += o.len();
                    out.push(Tok::Op(o));
                }
                None => return Err(KqlError::Syntax(format!("unexpected character '{c}'"))),
            }
        }
    }
    Ok(out)
}

/// Parses a KQL datetime literal: RFC 3339, or `YYYY-MM-DD[ HH:MM:SS[.f]]` taken as UTC.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim().trim_matches(|c| c == '"' || c == '\'');
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = raw.trim_end_matches(['Z', 'z']);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    columns: &'a [&'a str],
    now: DateTime<Utc>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn column(&self, name: &str, operator: &str) -> Result<usize, KqlError> {
        self.columns.iter().position(|c| *c == name).ok_or_else(|| {
            KqlError::Semantic(format!(
                "'{operator}' operator: Failed to resolve scalar expression named '{name}'"
            ))
        })
    }

    fn literal(&mut self) -> Result<Literal, KqlError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Literal::Str(s)),
            Some(Tok::Num(n)) => Ok(Literal::Int(n)),
            Some(Tok::Call(f, raw)) => match f.as_str() {
                "datetime" => parse_datetime(&raw)
                    .map(Literal::Time)
                    .ok_or_else(|| KqlError::Syntax(format!("invalid datetime literal '{raw}'"))),
                "ago" => {
                    let d = crate::duration::parse_duration(&raw)
                        .ok()
                        .and_then(|d| chrono::Duration::from_std(d).ok())
                        .ok_or_else(|| {
                            KqlError::Syntax(format!("invalid timespan '{raw}' in ago()"))
                        })?;
                    Ok(Literal::Time(self.now - d))
                }
                "now" if raw.is_empty() => Ok(Literal::Time(self.now)),
                other => Err(KqlError::Semantic(format!(
                    "function '{other}' is not supported by the mailtrail simulator"
                ))),
            },
            other => Err(KqlError::Syntax(format!(
                "expected a value, found {other:?}"
            ))),
        }
    }

    fn where_clause(&mut self, q: &mut Query) -> Result<(), KqlError> {
        loop {
            let Some(Tok::Ident(name)) = self.next() else {
                return Err(KqlError::Syntax(
                    "expected a column name after 'where'".into(),
                ));
            };
            let column = self.column(&name, "where")?;
            let op = match self.next() {
                Some(Tok::Op(o)) => match o {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "=~" => CmpOp::EqCi,
                    "!~" => CmpOp::NeCi,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    "<" => CmpOp::Lt,
                    _ => CmpOp::Le,
                },
                Some(Tok::Ident(word)) => {
                    return Err(KqlError::Semantic(format!(
                        "operator '{word}' is not supported by the mailtrail simulator"
                    )));
                }
                other => {
                    return Err(KqlError::Syntax(format!(
                        "expected a comparison, found {other:?}"
                    )));
                }
            };
            let value = self.literal()?;
            if name == "Timestamp" {
                let Literal::Time(at) = value else {
                    return Err(KqlError::Semantic(
                        "'where' operator: Timestamp must be compared with a datetime".into(),
                    ));
                };
                let tighter_lower = |b: Option<Bound>, new: Bound| match b {
                    Some(old) if old.at > new.at || (old.at == new.at && !old.inclusive) => {
                        Some(old)
                    }
                    _ => Some(new),
                };
                let tighter_upper = |b: Option<Bound>, new: Bound| match b {
                    Some(old) if old.at < new.at || (old.at == new.at && !old.inclusive) => {
                        Some(old)
                    }
                    _ => Some(new),
                };
                match op {
                    CmpOp::Gt => {
                        q.lower = tighter_lower(
                            q.lower,
                            Bound {
                                at,
                                inclusive: false,
                            },
                        )
                    }
                    CmpOp::Ge => {
                        q.lower = tighter_lower(
                            q.lower,
                            Bound {
                                at,
                                inclusive: true,
                            },
                        )
                    }
                    CmpOp::Lt => {
                        q.upper = tighter_upper(
                            q.upper,
                            Bound {
                                at,
                                inclusive: false,
                            },
                        )
                    }
                    CmpOp::Le => {
                        q.upper = tighter_upper(
                            q.upper,
                            Bound {
                                at,
                                inclusive: true,
                            },
                        )
                    }
                    CmpOp::Eq => {
                        q.lower = tighter_lower(
                            q.lower,
                            Bound {
                                at,
                                inclusive: true,
                            },
                        );
                        q.upper = tighter_upper(
                            q.upper,
                            Bound {
                                at,
                                inclusive: true,
                            },
                        );
                    }
                    _ => {
                        return Err(KqlError::Semantic(
                            "'where' operator: this comparison on Timestamp is not supported by the mailtrail simulator".into(),
                        ));
                    }
                }
            } else {
                q.predicates.push(Predicate { column, op, value });
            }
            match self.peek() {
                Some(Tok::Ident(w)) if w == "and" => {
                    self.pos += 1;
                }
                Some(Tok::Ident(w)) if w == "or" => {
                    return Err(KqlError::Semantic(
                        "'or' is not supported by the mailtrail simulator; use separate queries"
                            .into(),
                    ));
                }
                _ => return Ok(()),
            }
        }
    }
}

/// Parses `query` against a table's column names. `now` resolves `ago()` and `now()`.
pub fn parse(
    query: &str,
    table: &str,
    columns: &[&str],
    now: DateTime<Utc>,
) -> Result<Query, KqlError> {
    let mut p = Parser {
        toks: lex(query)?,
        pos: 0,
        columns,
        now,
    };
    let name = match p.next() {
        Some(Tok::Ident(name)) => name,
        _ => {
            return Err(KqlError::Syntax(
                "the query must start with a table name".into(),
            ));
        }
    };
    if name != table {
        return Err(KqlError::Semantic(format!(
            "Failed to resolve table or column expression named '{name}'"
        )));
    }
    let mut q = Query {
        table: name,
        lower: None,
        upper: None,
        predicates: Vec::new(),
        project: None,
        descending: None,
        take: None,
    };
    while let Some(tok) = p.next() {
        if tok != Tok::Pipe {
            return Err(KqlError::Syntax(format!("expected '|', found {tok:?}")));
        }
        let Some(Tok::Ident(op)) = p.next() else {
            return Err(KqlError::Syntax("expected an operator after '|'".into()));
        };
        if q.take.is_some() && op != "take" && op != "limit" {
            return Err(KqlError::Semantic(format!(
                "'{op}' after 'take' is not supported by the mailtrail simulator"
            )));
        }
        match op.as_str() {
            "where" => {
                if q.project.is_some() {
                    return Err(KqlError::Semantic(
                        "'where' after 'project' is not supported by the mailtrail simulator"
                            .into(),
                    ));
                }
                p.where_clause(&mut q)?
            }
            "project" => {
                let mut cols = Vec::new();
                loop {
                    let Some(Tok::Ident(c)) = p.next() else {
                        return Err(KqlError::Syntax(
                            "expected a column name in 'project'".into(),
                        ));
                    };
                    let idx = p.column(&c, "project")?;
                    if let Some(prev) = &q.project
                        && !prev.contains(&idx)
                    {
                        return Err(KqlError::Semantic(format!(
                            "'project' operator: Failed to resolve scalar expression named '{c}'"
                        )));
                    }
                    cols.push(idx);
                    if p.peek() == Some(&Tok::Comma) {
                        p.pos += 1;
                    } else {
                        break;
                    }
                }
                q.project = Some(cols);
            }
            "order" | "sort" => {
                match p.next() {
                    Some(Tok::Ident(by)) if by == "by" => {}
                    _ => return Err(KqlError::Syntax(format!("expected 'by' after '{op}'"))),
                }
                let Some(Tok::Ident(c)) = p.next() else {
                    return Err(KqlError::Syntax(
                        "expected a column after 'order by'".into(),
                    ));
                };
                p.column(&c, "order by")?;
                if c != "Timestamp" {
                    return Err(KqlError::Semantic(format!(
                        "ordering by '{c}' is not supported by the mailtrail simulator (only Timestamp)"
                    )));
                }
                let desc = match p.peek() {
                    Some(Tok::Ident(d)) if d == "asc" => {
                        p.pos += 1;
                        false
                    }
                    Some(Tok::Ident(d)) if d == "desc" => {
                        p.pos += 1;
                        true
                    }
                    _ => true,
                };
                q.descending = Some(desc);
            }
            "take" | "limit" => match p.next() {
                Some(Tok::Num(n)) if n >= 0 => {
                    q.take = Some(q.take.map_or(n as u64, |t| t.min(n as u64)));
                }
                _ => {
                    return Err(KqlError::Syntax(format!(
                        "expected a row count after '{op}'"
                    )));
                }
            },
            other => {
                return Err(KqlError::Semantic(format!(
                    "operator '{other}' is not supported by the mailtrail simulator"
                )));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[&str] = &["Timestamp", "NetworkMessageId", "Subject", "UrlCount"];

    fn t(s: &str) -> DateTime<Utc> {
        parse_datetime(s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        t("2026-11-26T12:00:00Z")
    }

    #[test]
    fn the_collector_query_shape_parses() {
        let q = parse(
            "EmailEvents\n| where Timestamp > datetime(2026-11-25T00:00:00Z) and Timestamp <= datetime(2026-11-25T01:00:00.5Z)\n| project Timestamp, NetworkMessageId\n| order by Timestamp asc",
            "EmailEvents",
            COLS,
            now(),
        )
        .unwrap();
        assert_eq!(
            q.lower,
            Some(Bound {
                at: t("2026-11-25T00:00:00Z"),
                inclusive: false
            })
        );
        assert_eq!(
            q.upper,
            Some(Bound {
                at: t("2026-11-25T01:00:00.5Z"),
                inclusive: true
            })
        );
        assert_eq!(q.project, Some(vec![0, 1]));
        assert_eq!(q.descending, Some(false));
    }

    #[test]
    fn take_ago_and_predicates() {
        let q = parse(
            "EmailEvents | where Timestamp > ago(1h) and Subject =~ \"Invoice\" | take 1",
            "EmailEvents",
            COLS,
            now(),
        )
        .unwrap();
        assert_eq!(q.lower.unwrap().at, t("2026-11-26T11:00:00Z"));
        assert_eq!(q.predicates.len(), 1);
        assert_eq!(q.take, Some(1));
    }

    #[test]
    fn unknown_tables_and_columns_are_semantic_errors() {
        let e = parse("DeviceEvents | take 1", "EmailEvents", COLS, now()).unwrap_err();
        assert!(
            matches!(e, KqlError::Semantic(ref m) if m.contains("DeviceEvents")),
            "{e:?}"
        );
        let e = parse("EmailEvents | project Nope", "EmailEvents", COLS, now()).unwrap_err();
        assert!(
            e.message()
                .contains("Failed to resolve scalar expression named 'Nope'")
        );
        let e = parse(
            "EmailEvents | summarize count()",
            "EmailEvents",
            COLS,
            now(),
        )
        .unwrap_err();
        assert!(matches!(e, KqlError::Semantic(_)));
        assert!(matches!(
            parse(
                "EmailEvents | where Subject == \"x",
                "EmailEvents",
                COLS,
                now()
            ),
            Err(KqlError::Syntax(_))
        ));
    }

    #[test]
    fn datetime_literals_in_several_spellings() {
        assert_eq!(t("2026-11-25 10:00:00"), t("2026-11-25T10:00:00Z"));
        assert_eq!(t("2026-11-25"), t("2026-11-25T00:00:00Z"));
        assert_eq!(
            t("\"2026-11-25T10:00:00.1234567Z\"").timestamp_subsec_nanos(),
            123_456_700
        );
    }
}
