//! OCSF 1.8.0 output: pure mapping functions from Microsoft Graph source records to OCSF events,
//! and a validator for those events against the compiled official schema.
//!
//! - [`detection_finding`] (`finding.rs`): a Graph `alerts_v2` alert → Detection Finding (2004).
//! - [`email_activity`] (`email.rs`): an advanced-hunting `EmailEvents` row → Email Activity
//!   (4009).
//! - [`validate`]: the schema checks every exported event must pass.
//!
//! The mapping follows OCSF.md §9 (shared docs) and is documented field by field in
//! `docs/ocsf-mapping.md`. Its rules: required attributes always present; enums closed (unknown
//! source values → 99 with the raw value in the sibling string, absent → 0); timestamps in
//! epoch milliseconds; a value only enters a typed attribute (`ip_t`, `email_t`, timestamps)
//! when it is valid for it; and nothing from the source is dropped — whatever has no OCSF home
//! goes to `unmapped` (event level) or `evidences[].data` (per evidence).

mod email;
mod enums;
mod finding;
mod mitre;
mod record;
pub mod types;
mod url;
pub mod validate;

use serde_json::{Value, json};

pub use email::{EmailContext, email_activity};
pub use finding::{FindingActivity, FindingContext, detection_finding, finding_activity};
pub use record::{alert_event_uid, derive_event_uid, email_event_uid, parse_time_ms};
pub use validate::{Problem, ProblemKind, Schema, SchemaError, Severity};

/// Version of the mapping rules. The store keeps it beside each OCSF row; bump it whenever the
/// output for the same input changes, so that `remap` knows which rows to rebuild.
pub const MAPPING_VERSION: u32 = 1;

/// The OCSF schema version the output targets (`metadata.version`).
pub const OCSF_VERSION: &str = "1.8.0";

const MDO_PRODUCT_NAME: &str = "Microsoft Defender for Office 365";
const VENDOR_NAME: &str = "Microsoft";

/// The `metadata.tags` key that carries mailtrail's tenant name.
pub const TENANT_TAG: &str = "mailtrail.tenant";

/// An `observables[]` entry; `name` is the attribute path the value sits at.
fn observable(name: &str, type_id: i64, value: &str) -> Value {
    let caption = match type_id {
        1 => "Hostname",
        2 => "IP Address",
        4 => "User Name",
        5 => "Email Address",
        6 => "URL String",
        7 => "File Name",
        8 => "Hash",
        _ => "Other",
    };
    json!({ "name": name, "type_id": type_id, "type": caption, "value": value })
}

/// `metadata.tags` naming the configured tenant, when it has a name.
fn tenant_tags(tenant_name: &str) -> Option<Value> {
    (!tenant_name.is_empty()).then(|| json!([{ "name": TENANT_TAG, "value": tenant_name }]))
}
