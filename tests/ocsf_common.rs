//! Helpers shared by the OCSF integration tests (`ocsf_mapping.rs`, `ocsf_snapshots.rs`), which
//! include this file with `#[path]`. Compiled on its own it is an empty test crate.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use mailtrail::ocsf::{Problem, Schema};
use serde_json::Value;

/// The crate root (where Cargo.toml is).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A JSON file under `tests/fixtures/ocsf/`.
pub fn fixture(rel: &str) -> Value {
    let path = manifest_dir().join("tests/fixtures/ocsf").join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Where the compiled OCSF schema may be: `$MAILTRAIL_OCSF_SCHEMA`, then the shared docs
/// directory beside the repository (`../shared/ocsf/`). Never copied into the repository.
pub fn schema_candidates() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = std::env::var_os(Schema::ENV_VAR) {
        paths.push(PathBuf::from(p));
    }
    paths.push(manifest_dir().join("../shared/ocsf/ocsf-schema-1.8.0.json"));
    paths
}

/// The official schema, loaded once per test binary; `None` when no candidate file exists.
pub fn schema() -> Option<&'static Schema> {
    static SCHEMA: OnceLock<Option<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = schema_candidates().into_iter().find(|p| p.is_file())?;
            // A file that is there but unreadable is a real failure, not a skip.
            Some(Schema::load(&path).unwrap_or_else(|e| panic!("{e}")))
        })
        .as_ref()
}

/// The schema, or `None` after printing why the schema checks of `test` are skipped.
pub fn schema_or_skip(test: &str) -> Option<&'static Schema> {
    let schema = schema();
    if schema.is_none() {
        let tried: Vec<String> = schema_candidates()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        println!(
            "SKIPPED: OCSF schema not found at {} (set {}) [{test}]",
            tried.join(" or "),
            Schema::ENV_VAR
        );
    }
    schema
}

/// Asserts that `event` validates with no problem at all (errors or warnings).
pub fn assert_valid(schema: &Schema, what: &str, event: &Value) {
    let problems: Vec<Problem> = schema.validate(event);
    let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n{}",
        problems.len(),
        list.join("\n")
    );
}
