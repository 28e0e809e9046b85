//! Validation of OCSF events against the compiled OCSF schema (the JSON export of
//! schema.ocsf.io, e.g. `ocsf-schema-1.8.0.json`), modelled on the OCSF Server's validator
//! (`lib/schema/validator2.ex`): same checks, same error/warning split, plus two checks the
//! server leaves as TODOs (observable `type_id` against the attribute's type, and an explicit
//! `category_uid` check).
//!
//! The compiled schema is not JSON Schema: classes and objects list their attributes with a
//! `type` (a dictionary type or `object_t` + `object_type`), `requirement`, `is_array`, `enum`,
//! `sibling`, `profiles` and `@deprecated`; objects may carry `constraints`. This module reads
//! just those keys.
//!
//! What is checked, per event: `class_uid` names a class; `metadata.profiles` names known
//! profiles; every attribute present is defined for its class/object *with the applied
//! profiles* (else unknown, or gated by a profile that is not applied); required attributes are
//! present and not null, recursively inside every object present; values have their type's
//! JSON type (integers for `timestamp_t`, JSON floats for `float_t`), range, `max_len` and
//! format (`email_t`, `ip_t`, `datetime_t`, `uuid_t`, `mac_t`, `bytestring_t`); enum values are
//! defined; sibling strings equal the enum caption (or, for 99, are not the word "Other");
//! `type_uid` = `class_uid` * 100 + `activity_id`; `category_uid` is the class's; object
//! constraints (`at_least_one`, `just_one`); observables' `name` resolves to an attribute path;
//! `metadata.version` is well formed and not newer than the schema; deprecated attributes and
//! objects are flagged. Objects without attributes (`unmapped`, `xattributes`) and `json_t`
//! values (`evidences[].data`) accept anything.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::types::format_check;

/// How bad a problem is, as the OCSF Server grades it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The event is not valid OCSF.
    Error,
    /// Valid, but not as the schema intends (sibling mismatch, format mismatch, deprecation).
    Warning,
}

/// The kind of a problem; names follow the OCSF Server's error/warning types where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The event is not a JSON object.
    EventNotObject,
    /// `class_uid` is missing or names no class.
    ClassUnknown,
    /// A `metadata.profiles` entry names no profile.
    ProfileUnknown,
    /// A required attribute is missing or null.
    RequiredMissing,
    /// A value has the wrong JSON type for its attribute.
    WrongType,
    /// A string does not match its type's format (regex) — a warning, as in the server.
    FormatMismatch,
    /// A string is longer than its type's `max_len`.
    TooLong,
    /// A number is outside its type's range.
    OutOfRange,
    /// A value is not in its type's list of allowed values.
    ValueNotAllowed,
    /// An enum attribute has a value the enum does not define.
    EnumValueUnknown,
    /// A sibling string does not match the caption of its enum value.
    EnumSiblingIncorrect,
    /// A 99 "Other" enum value whose sibling is the caption "Other" rather than a source value.
    EnumSiblingSuspiciousOther,
    /// An attribute that no class/object in scope defines.
    AttributeUnknown,
    /// An attribute that exists only with a profile that `metadata.profiles` does not list.
    ProfileNotApplied,
    /// `type_uid` is not `class_uid * 100 + activity_id`.
    TypeUidIncorrect,
    /// `category_uid` is not the class's category.
    CategoryUidIncorrect,
    /// An `at_least_one` / `just_one` constraint fails.
    ConstraintFailed,
    /// An observable `name` does not resolve to an attribute of the class.
    ObservableNameInvalid,
    /// An observable `type_id` differs from the observable id of the attribute's type.
    ObservableTypeMismatch,
    /// `metadata.version` is malformed or newer than the schema.
    VersionIncompatible,
    /// `metadata.version` differs from the schema's (older).
    VersionMismatch,
    /// A deprecated attribute or object is used.
    Deprecated,
    /// The schema itself is inconsistent (a type or object it references is not defined).
    SchemaBug,
}

/// One finding of [`Schema::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub kind: ProblemKind,
    /// Attribute path, e.g. `evidences[0].email.from`; empty for the event itself.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.path.is_empty() {
            write!(f, "{level}: {}", self.message)
        } else {
            write!(f, "{level}: {}: {}", self.path, self.message)
        }
    }
}

/// Why a schema could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "cannot read the OCSF schema at {path}: {source}; point {env} at the compiled schema JSON",
        env = Schema::ENV_VAR
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the OCSF schema at {path} is not JSON: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("not a compiled OCSF schema: {0} (expected the schema.ocsf.io JSON export)")]
    Shape(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requirement {
    Required,
    Other,
}

#[derive(Debug)]
struct AttrDef {
    type_name: String,
    object_type: Option<String>,
    is_array: bool,
    requirement: Requirement,
    /// Enum value (as a string key) → caption.
    enum_captions: Option<HashMap<String, String>>,
    sibling: Option<String>,
    /// `None`: always available; `Some(list)`: only with one of these profiles applied.
    profiles: Option<Vec<String>>,
    deprecated: Option<String>,
}

#[derive(Debug, Default)]
struct ObjectDef {
    name: String,
    attributes: HashMap<String, AttrDef>,
    /// Names of required attributes, sorted, so problems come in a stable order.
    required: Vec<String>,
    at_least_one: Vec<Vec<String>>,
    just_one: Vec<Vec<String>>,
    deprecated: Option<String>,
}

#[derive(Debug)]
struct ClassDef {
    def: ObjectDef,
    uid: i64,
    category_uid: Option<i64>,
}

#[derive(Debug, Default)]
struct TypeDef {
    /// The primitive this type refines (`timestamp_t` → `long_t`); `None` for primitives.
    base: Option<String>,
    has_regex: bool,
    max_len: Option<usize>,
    range: Option<(f64, f64)>,
    values: Option<Vec<Value>>,
    observable: Option<i64>,
}

/// The compiled OCSF schema, reduced to what validation needs.
#[derive(Debug)]
pub struct Schema {
    version: String,
    classes: HashMap<i64, ClassDef>,
    objects: HashMap<String, ObjectDef>,
    types: HashMap<String, TypeDef>,
    profiles: HashSet<String>,
}

impl Schema {
    /// Environment variable naming the compiled schema file.
    pub const ENV_VAR: &'static str = "MAILTRAIL_OCSF_SCHEMA";

    /// Loads the compiled schema JSON from `path`.
    pub fn load(path: &Path) -> Result<Schema, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: path.to_owned(),
            source,
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|source| SchemaError::Parse {
            path: path.to_owned(),
            source,
        })?;
        Schema::from_value(&v)
    }

    /// Builds the schema from the parsed compiled-schema JSON.
    pub fn from_value(v: &Value) -> Result<Schema, SchemaError> {
        let section = |key: &str| {
            v.get(key)
                .and_then(Value::as_object)
                .ok_or_else(|| SchemaError::Shape(format!("no \"{key}\" object at the top level")))
        };
        let version = v
            .get("version")
            .and_then(Value::as_str)
            .ok_or_else(|| SchemaError::Shape("no \"version\" string".into()))?
            .to_owned();
        let types_section = v
            .pointer("/dictionary/types/attributes")
            .and_then(Value::as_object)
            .ok_or_else(|| SchemaError::Shape("no dictionary.types.attributes".into()))?;
        let types = types_section
            .iter()
            .map(|(name, t)| (name.clone(), parse_type(t)))
            .collect();
        let objects = section("objects")?
            .iter()
            .map(|(name, o)| (name.clone(), parse_object(name, o)))
            .collect();
        let mut classes = HashMap::new();
        for (name, c) in section("classes")? {
            let Some(uid) = c.get("uid").and_then(Value::as_i64) else {
                return Err(SchemaError::Shape(format!(
                    "class \"{name}\" has no integer uid"
                )));
            };
            let category_uid = c.get("category_uid").and_then(Value::as_i64);
            classes.insert(
                uid,
                ClassDef {
                    def: parse_object(name, c),
                    uid,
                    category_uid,
                },
            );
        }
        let profiles = section("profiles")?.keys().cloned().collect();
        Ok(Schema {
            version,
            classes,
            objects,
            types,
            profiles,
        })
    }

    /// The schema's OCSF version, e.g. "1.8.0".
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Dictionary types with a format (regex) that this validator has no check for; their
    /// format is then not verified. Empty for OCSF 1.8.0.
    pub fn unchecked_format_types(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .types
            .iter()
            .filter(|(name, t)| t.has_regex && format_check(name).is_none())
            .map(|(name, _)| name.as_str())
            .collect();
        out.sort_unstable();
        out
    }

    /// Validates one event. An empty result means the event is valid OCSF with no warnings.
    pub fn validate(&self, event: &Value) -> Vec<Problem> {
        let mut walk = Walk {
            schema: self,
            profiles: HashSet::new(),
            problems: Vec::new(),
        };
        let Some(obj) = event.as_object() else {
            walk.error(
                ProblemKind::EventNotObject,
                "",
                "the event is not a JSON object".into(),
            );
            return walk.problems;
        };
        let class = match obj.get("class_uid") {
            None | Some(Value::Null) => {
                walk.error(
                    ProblemKind::RequiredMissing,
                    "class_uid",
                    "required attribute is missing".into(),
                );
                None
            }
            Some(v) => match v.as_i64() {
                Some(uid) => {
                    let class = self.classes.get(&uid);
                    if class.is_none() {
                        walk.error(
                            ProblemKind::ClassUnknown,
                            "class_uid",
                            format!("no class is defined for {uid}"),
                        );
                    }
                    class
                }
                None => {
                    walk.error(
                        ProblemKind::WrongType,
                        "class_uid",
                        format!("expected integer_t, got {}", kind_of(v)),
                    );
                    None
                }
            },
        };
        // Without a class, nothing else can be checked.
        let Some(class) = class else {
            return walk.problems;
        };
        walk.read_profiles(obj);
        walk.object(obj, &class.def, "");
        walk.version(obj);
        walk.type_uid(obj);
        walk.category(obj, class);
        walk.observables(obj, class);
        walk.problems
    }
}

fn parse_type(t: &Value) -> TypeDef {
    let range = t
        .get("range")
        .and_then(Value::as_array)
        .and_then(|r| match r.as_slice() {
            [lo, hi] => Some((lo.as_f64()?, hi.as_f64()?)),
            _ => None,
        });
    TypeDef {
        base: t.get("type").and_then(Value::as_str).map(str::to_owned),
        has_regex: t.get("regex").is_some_and(|r| r.is_string()),
        max_len: t
            .get("max_len")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok()),
        range,
        values: t.get("values").and_then(Value::as_array).cloned(),
        observable: t.get("observable").and_then(Value::as_i64),
    }
}

fn deprecation(v: &Value) -> Option<String> {
    let d = v.get("@deprecated")?;
    let message = d
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("deprecated");
    let since = d.get("since").and_then(Value::as_str).unwrap_or("?");
    Some(format!("deprecated since {since}: {}", strip_tags(message)))
}

/// Schema descriptions carry HTML (`<code>x</code>`); messages are plain text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_object(name: &str, o: &Value) -> ObjectDef {
    let mut attributes = HashMap::new();
    for (attr_name, a) in o
        .get("attributes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let enum_captions = a.get("enum").and_then(Value::as_object).map(|e| {
            e.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.get("caption")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    )
                })
                .collect()
        });
        let profiles = a.get("profiles").and_then(Value::as_array).map(|p| {
            p.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
        let def = AttrDef {
            type_name: a
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("string_t")
                .to_owned(),
            object_type: a
                .get("object_type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            is_array: a.get("is_array").and_then(Value::as_bool).unwrap_or(false),
            requirement: match a.get("requirement").and_then(Value::as_str) {
                Some("required") => Requirement::Required,
                _ => Requirement::Other,
            },
            enum_captions,
            sibling: a.get("sibling").and_then(Value::as_str).map(str::to_owned),
            profiles,
            deprecated: deprecation(a),
        };
        attributes.insert(attr_name.clone(), def);
    }
    let mut required: Vec<String> = attributes
        .iter()
        .filter(|(_, a)| a.requirement == Requirement::Required)
        .map(|(n, _)| n.clone())
        .collect();
    required.sort_unstable();
    let constraint = |key: &str| -> Vec<Vec<String>> {
        o.pointer(&format!("/constraints/{key}"))
            .and_then(Value::as_array)
            .map(|list| {
                vec![
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                ]
            })
            .unwrap_or_default()
    };
    ObjectDef {
        name: name.to_owned(),
        attributes,
        required,
        at_least_one: constraint("at_least_one"),
        just_one: constraint("just_one"),
        deprecated: deprecation(o),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// The enum key of a value: integers and strings as written ("2"), nothing for other types
/// (those get a type error instead).
fn enum_key(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) if !n.is_f64() => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// One validation pass over one event.
struct Walk<'s> {
    schema: &'s Schema,
    profiles: HashSet<String>,
    problems: Vec<Problem>,
}

impl<'s> Walk<'s> {
    fn error(&mut self, kind: ProblemKind, path: &str, message: String) {
        self.problems.push(Problem {
            severity: Severity::Error,
            kind,
            path: path.to_owned(),
            message,
        });
    }

    fn warning(&mut self, kind: ProblemKind, path: &str, message: String) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            kind,
            path: path.to_owned(),
            message,
        });
    }

    /// True when the attribute is available with the applied profiles.
    fn applies(&self, a: &AttrDef) -> bool {
        a.profiles
            .as_ref()
            .is_none_or(|p| p.iter().any(|name| self.profiles.contains(name)))
    }

    fn read_profiles(&mut self, event: &Map<String, Value>) {
        let Some(list) = event
            .get("metadata")
            .and_then(|m| m.get("profiles"))
            .and_then(Value::as_array)
        else {
            // Missing or mistyped: no profiles apply (a wrong type is reported by the walk).
            return;
        };
        for (i, p) in list.iter().enumerate() {
            let Some(name) = p.as_str() else { continue };
            if self.schema.profiles.contains(name) {
                self.profiles.insert(name.to_owned());
            } else {
                self.error(
                    ProblemKind::ProfileUnknown,
                    &format!("metadata.profiles[{i}]"),
                    format!("no profile is defined for \"{name}\""),
                );
            }
        }
    }

    fn object(&mut self, obj: &Map<String, Value>, def: &ObjectDef, path: &str) {
        // An object without attributes ("object", used by `unmapped`) accepts any content.
        if def.attributes.is_empty() {
            return;
        }
        if let Some(d) = &def.deprecated {
            self.warning(
                ProblemKind::Deprecated,
                path,
                format!("object \"{}\" is {d}", def.name),
            );
        }
        let mut keys: Vec<&String> = obj.keys().collect();
        keys.sort_unstable();
        for key in keys {
            let child = join(path, key);
            let value = &obj[key];
            match def.attributes.get(key.as_str()) {
                None => self.error(
                    ProblemKind::AttributeUnknown,
                    &child,
                    format!("attribute \"{key}\" is not defined in \"{}\"", def.name),
                ),
                Some(a) if !self.applies(a) => {
                    let needed = a.profiles.as_deref().unwrap_or_default().join("\" or \"");
                    self.error(
                        ProblemKind::ProfileNotApplied,
                        &child,
                        format!("attribute \"{key}\" needs the \"{needed}\" profile, which metadata.profiles does not list"),
                    );
                }
                Some(_) if value.is_null() => {}
                Some(a) => {
                    self.attribute(value, a, &child);
                    if a.enum_captions.is_some() {
                        self.enum_value(obj, key, value, a, path);
                    }
                }
            }
        }
        for name in &def.required {
            let Some(a) = def.attributes.get(name) else {
                continue;
            };
            if self.applies(a) && obj.get(name).is_none_or(Value::is_null) {
                self.error(
                    ProblemKind::RequiredMissing,
                    &join(path, name),
                    "required attribute is missing".into(),
                );
            }
        }
        let present = |k: &String| obj.get(k).is_some_and(|v| !v.is_null());
        for set in &def.at_least_one {
            if !set.iter().any(present) {
                self.error(
                    ProblemKind::ConstraintFailed,
                    path,
                    format!("\"{}\" needs at least one of: {}", def.name, set.join(", ")),
                );
            }
        }
        for set in &def.just_one {
            let n = set.iter().filter(|k| present(k)).count();
            if n != 1 {
                self.error(
                    ProblemKind::ConstraintFailed,
                    path,
                    format!(
                        "\"{}\" needs exactly one of: {} (has {n})",
                        def.name,
                        set.join(", ")
                    ),
                );
            }
        }
    }

    fn attribute(&mut self, value: &Value, a: &AttrDef, path: &str) {
        if let Some(d) = &a.deprecated {
            self.warning(ProblemKind::Deprecated, path, format!("attribute is {d}"));
        }
        if !a.is_array {
            self.value(value, a, path);
            return;
        }
        match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.value(item, a, &format!("{path}[{i}]"));
                }
            }
            None => self.error(
                ProblemKind::WrongType,
                path,
                format!(
                    "expected an array of {}, got {}",
                    a.type_name,
                    kind_of(value)
                ),
            ),
        }
    }

    fn value(&mut self, value: &Value, a: &AttrDef, path: &str) {
        if a.type_name != "object_t" {
            self.typed(value, &a.type_name, path);
            return;
        }
        let object_type = a.object_type.as_deref().unwrap_or_default();
        let Some(def) = self.schema.objects.get(object_type) else {
            self.error(
                ProblemKind::SchemaBug,
                path,
                format!("object type \"{object_type}\" is not defined"),
            );
            return;
        };
        match value.as_object() {
            Some(obj) => self.object(obj, def, path),
            None => self.error(
                ProblemKind::WrongType,
                path,
                format!("expected {object_type} (object), got {}", kind_of(value)),
            ),
        }
    }

    /// Checks a value against a dictionary type and, for subtypes, its primitive.
    fn typed(&mut self, value: &Value, type_name: &str, path: &str) {
        let Some(t) = self.schema.types.get(type_name) else {
            self.error(
                ProblemKind::SchemaBug,
                path,
                format!("type \"{type_name}\" is not in the dictionary"),
            );
            return;
        };
        let primitive = t.base.as_deref().unwrap_or(type_name);
        let ok = match primitive {
            "string_t" => value.is_string(),
            "integer_t" => value.is_i64(),
            "long_t" => value.is_i64() || value.is_u64(),
            // The server requires a JSON float here (`1.0`, not `1`).
            "float_t" => value.is_f64(),
            "boolean_t" => value.is_boolean(),
            "json_t" => true,
            other => {
                self.error(
                    ProblemKind::SchemaBug,
                    path,
                    format!("unknown primitive type \"{other}\""),
                );
                return;
            }
        };
        if !ok {
            let expected = if primitive == type_name {
                type_name.to_owned()
            } else {
                format!("{type_name} ({primitive})")
            };
            self.error(
                ProblemKind::WrongType,
                path,
                format!("expected {expected}, got {}", kind_of(value)),
            );
            return;
        }
        // Constraints come from the type itself, else from its primitive (as in the server).
        let base = t.base.as_deref().and_then(|b| self.schema.types.get(b));
        let max_len = t.max_len.or(base.and_then(|b| b.max_len));
        let range = t.range.or(base.and_then(|b| b.range));
        let values = t.values.as_ref().or(base.and_then(|b| b.values.as_ref()));
        if let (Some(max), Some(s)) = (max_len, value.as_str()) {
            let len = s.chars().count();
            if len > max {
                self.error(
                    ProblemKind::TooLong,
                    path,
                    format!("{len} characters exceed {type_name}'s max_len {max}"),
                );
            }
        }
        if let (Some((lo, hi)), Some(n)) = (range, value.as_f64())
            && (n < lo || n > hi)
        {
            self.error(
                ProblemKind::OutOfRange,
                path,
                format!("{n} is outside {type_name}'s range {lo}..={hi}"),
            );
        }
        if let Some(values) = values
            && !values.contains(value)
        {
            self.error(
                ProblemKind::ValueNotAllowed,
                path,
                format!("value is not one of {type_name}'s values"),
            );
        }
        let has_regex = t.has_regex || base.is_some_and(|b| b.has_regex);
        if let (true, Some(s)) = (has_regex, value.as_str()) {
            let check =
                format_check(type_name).or_else(|| t.base.as_deref().and_then(format_check));
            if check.is_some_and(|matches| !matches(s)) {
                self.warning(
                    ProblemKind::FormatMismatch,
                    path,
                    format!("value does not match the format of {type_name}"),
                );
            }
        }
    }

    /// Enum value defined, and its sibling string consistent (OCSF.md §2.3).
    fn enum_value(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        value: &Value,
        a: &AttrDef,
        parent: &str,
    ) {
        let Some(captions) = &a.enum_captions else {
            return;
        };
        let path = join(parent, key);
        let sibling = a
            .sibling
            .as_deref()
            .and_then(|s| obj.get(s).filter(|v| !v.is_null()).map(|v| (s, v)));
        if a.is_array {
            let Some(items) = value.as_array() else {
                return;
            };
            for (i, item) in items.iter().enumerate() {
                let Some(k) = enum_key(item) else { continue };
                let Some(caption) = captions.get(&k) else {
                    self.error(
                        ProblemKind::EnumValueUnknown,
                        &format!("{path}[{i}]"),
                        format!("{k} is not defined for this enum"),
                    );
                    continue;
                };
                if k == "99" {
                    continue;
                }
                if let Some((name, Value::Array(labels))) = sibling {
                    let sib_path = format!("{}[{i}]", join(parent, name));
                    match labels.get(i) {
                        Some(label) if label.as_str() == Some(caption) => {}
                        Some(label) => self.error(
                            ProblemKind::EnumSiblingIncorrect,
                            &sib_path,
                            format!("expected \"{caption}\" (caption of {k}), got {label}"),
                        ),
                        None => self.error(
                            ProblemKind::EnumSiblingIncorrect,
                            &sib_path,
                            format!("missing; expected \"{caption}\" (caption of {k})"),
                        ),
                    }
                }
            }
            return;
        }
        let Some(k) = enum_key(value) else { return };
        let Some(caption) = captions.get(&k) else {
            self.error(
                ProblemKind::EnumValueUnknown,
                &path,
                format!("{k} is not defined for this enum"),
            );
            return;
        };
        let Some((name, label)) = sibling else { return };
        let sib_path = join(parent, name);
        if k == "99" {
            if label.as_str() == Some(caption) {
                self.warning(
                    ProblemKind::EnumSiblingSuspiciousOther,
                    &sib_path,
                    "is \"Other\"; for 99 it should carry the source's own value".into(),
                );
            }
        } else if label.as_str() != Some(caption) {
            self.warning(
                ProblemKind::EnumSiblingIncorrect,
                &sib_path,
                format!("expected \"{caption}\" (caption of {key} {k}), got {label}"),
            );
        }
    }

    fn version(&mut self, event: &Map<String, Value>) {
        let Some(v) = event
            .get("metadata")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
        else {
            return;
        };
        let Some(parsed) = parse_version(v) else {
            self.error(
                ProblemKind::VersionIncompatible,
                "metadata.version",
                format!("\"{v}\" is not a semantic version"),
            );
            return;
        };
        let schema = parse_version(&self.schema.version);
        match schema {
            Some(s) if parsed > s => self.error(
                ProblemKind::VersionIncompatible,
                "metadata.version",
                format!("\"{v}\" is newer than the schema ({})", self.schema.version),
            ),
            _ if v != self.schema.version => self.warning(
                ProblemKind::VersionMismatch,
                "metadata.version",
                format!(
                    "\"{v}\" is not the schema's version ({})",
                    self.schema.version
                ),
            ),
            _ => {}
        }
    }

    fn type_uid(&mut self, event: &Map<String, Value>) {
        let int = |k: &str| event.get(k).and_then(Value::as_i64);
        if let (Some(class), Some(activity), Some(type_uid)) =
            (int("class_uid"), int("activity_id"), int("type_uid"))
        {
            let expected = class * 100 + activity;
            if type_uid != expected {
                self.error(
                    ProblemKind::TypeUidIncorrect,
                    "type_uid",
                    format!("{type_uid} is not class_uid {class} * 100 + activity_id {activity} = {expected}"),
                );
            }
        }
    }

    fn category(&mut self, event: &Map<String, Value>, class: &ClassDef) {
        let (Some(found), Some(expected)) = (
            event.get("category_uid").and_then(Value::as_i64),
            class.category_uid,
        ) else {
            return;
        };
        if found != expected {
            self.error(
                ProblemKind::CategoryUidIncorrect,
                "category_uid",
                format!(
                    "class {} belongs to category {expected}, not {found}",
                    class.uid
                ),
            );
        }
    }

    fn observables(&mut self, event: &Map<String, Value>, class: &ClassDef) {
        let Some(list) = event.get("observables").and_then(Value::as_array) else {
            return;
        };
        for (i, o) in list.iter().enumerate() {
            let Some(name) = o.get("name").and_then(Value::as_str) else {
                continue;
            };
            let path = format!("observables[{i}].name");
            match self.resolve(name, &class.def) {
                None => self.error(
                    ProblemKind::ObservableNameInvalid,
                    &path,
                    format!("\"{name}\" does not refer to an attribute of this class"),
                ),
                Some(a) => {
                    let expected = self
                        .schema
                        .types
                        .get(&a.type_name)
                        .and_then(|t| t.observable);
                    let found = o.get("type_id").and_then(Value::as_i64);
                    if let (Some(expected), Some(found)) = (expected, found)
                        && expected != found
                    {
                        self.warning(
                            ProblemKind::ObservableTypeMismatch,
                            &format!("observables[{i}].type_id"),
                            format!(
                                "{found}, but \"{name}\" is a {} (observable type {expected})",
                                a.type_name
                            ),
                        );
                    }
                }
            }
        }
    }

    /// Resolves an attribute path (`evidences[0].email.urls[1].hostname`; indexes optional).
    fn resolve(&self, name: &str, class: &'s ObjectDef) -> Option<&'s AttrDef> {
        let mut def = class;
        let mut segments = name.split('.').peekable();
        while let Some(segment) = segments.next() {
            let key = segment.split_once('[').map_or(segment, |(k, _)| k);
            let a = def.attributes.get(key).filter(|a| self.applies(a))?;
            if segments.peek().is_none() {
                return Some(a);
            }
            def = self.schema.objects.get(a.object_type.as_deref()?)?;
        }
        None
    }
}

/// `1.8.0`, `1.9.0-dev`, `1.0.0-rc.2` → comparable tuple (a pre-release sorts before its release).
fn parse_version(v: &str) -> Option<(u64, u64, u64, u64)> {
    let (core, pre) = match v.split_once('-') {
        Some((core, "dev")) => (core, 0),
        Some((core, rc)) => (
            core,
            rc.strip_prefix("rc.")?
                .parse::<u64>()
                .ok()?
                .saturating_add(1),
        ),
        None => (v, u64::MAX),
    };
    let mut parts = core
        .split('.')
        .map(|p| p.parse::<u64>().ok().filter(|_| !p.is_empty()));
    let version = (parts.next()??, parts.next()??, parts.next()??, pre);
    parts.next().is_none().then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A tiny hand-written schema in the compiled format, so these tests run without the
    /// official file (the integration tests use the real one).
    fn mini() -> Schema {
        let v = json!({
            "version": "1.8.0",
            "dictionary": {"types": {"attributes": {
                "string_t": {}, "integer_t": {}, "long_t": {}, "float_t": {}, "json_t": {},
                "boolean_t": {"values": [false, true]},
                "timestamp_t": {"type": "long_t"},
                "port_t": {"type": "integer_t", "range": [0, 65535], "observable": 11},
                "email_t": {"type": "string_t", "regex": "…", "observable": 5},
                "ip_t": {"type": "string_t", "regex": "…", "max_len": 40, "observable": 2}
            }}},
            "profiles": {"security_control": {}},
            "objects": {
                "object": {"name": "object"},
                "thing": {"name": "thing", "constraints": {"at_least_one": ["a", "b"]}, "attributes": {
                    "a": {"type": "string_t", "requirement": "optional"},
                    "b": {"type": "email_t", "requirement": "optional"},
                    "port": {"type": "port_t", "requirement": "optional"},
                    "ratio": {"type": "float_t", "requirement": "optional"},
                    "old": {"type": "string_t", "requirement": "optional", "@deprecated": {"message": "Use <code>a</code>.", "since": "1.1.0"}}
                }},
                "observable": {"name": "observable", "attributes": {
                    "name": {"type": "string_t", "requirement": "recommended"},
                    "type_id": {"type": "integer_t", "requirement": "required"},
                    "value": {"type": "string_t", "requirement": "optional"}
                }},
                "metadata": {"name": "metadata", "attributes": {
                    "version": {"type": "string_t", "requirement": "required"},
                    "profiles": {"type": "string_t", "is_array": true, "requirement": "optional"}
                }}
            },
            "classes": {"demo": {"name": "demo", "uid": 9001, "category_uid": 9, "attributes": {
                "class_uid": {"type": "integer_t", "requirement": "required", "enum": {"9001": {"caption": "Demo"}}, "sibling": "class_name"},
                "class_name": {"type": "string_t", "requirement": "optional"},
                "category_uid": {"type": "integer_t", "requirement": "required"},
                "activity_id": {"type": "integer_t", "requirement": "required", "sibling": "activity_name",
                    "enum": {"0": {"caption": "Unknown"}, "1": {"caption": "Go"}, "99": {"caption": "Other"}}},
                "activity_name": {"type": "string_t", "requirement": "optional"},
                "type_uid": {"type": "long_t", "requirement": "required"},
                "time": {"type": "timestamp_t", "requirement": "required"},
                "ids": {"type": "integer_t", "is_array": true, "requirement": "optional", "sibling": "names",
                    "enum": {"1": {"caption": "One"}, "2": {"caption": "Two"}}},
                "names": {"type": "string_t", "is_array": true, "requirement": "optional"},
                "gated": {"type": "string_t", "requirement": "optional", "profiles": ["security_control"]},
                "thing": {"type": "object_t", "object_type": "thing", "requirement": "optional"},
                "things": {"type": "object_t", "object_type": "thing", "is_array": true, "requirement": "optional"},
                "unmapped": {"type": "object_t", "object_type": "object", "requirement": "optional"},
                "data": {"type": "json_t", "requirement": "optional"},
                "observables": {"type": "object_t", "object_type": "observable", "is_array": true, "requirement": "optional"},
                "metadata": {"type": "object_t", "object_type": "metadata", "requirement": "required"}
            }}}
        });
        match Schema::from_value(&v) {
            Ok(s) => s,
            Err(e) => panic!("mini schema: {e}"),
        }
    }

    fn good() -> Value {
        json!({
            "class_uid": 9001, "class_name": "Demo", "category_uid": 9, "activity_id": 1,
            "activity_name": "Go", "type_uid": 900101, "time": 1_700_000_000_000_i64,
            "metadata": {"version": "1.8.0"}
        })
    }

    fn kinds(s: &Schema, v: &Value) -> Vec<ProblemKind> {
        s.validate(v).into_iter().map(|p| p.kind).collect()
    }

    fn with(mut v: Value, f: impl FnOnce(&mut Map<String, Value>)) -> Value {
        if let Some(o) = v.as_object_mut() {
            f(o);
        }
        v
    }

    #[test]
    fn a_good_event_has_no_problems() {
        let s = mini();
        assert_eq!(s.validate(&good()), vec![]);
        let rich = with(good(), |o| {
            o.insert("unmapped".into(), json!({"anything": [1, {"x": null}]}));
            o.insert("data".into(), json!([1, "two"]));
            o.insert("thing".into(), json!({"a": "x", "port": 25, "ratio": 0.5}));
            o.insert("ids".into(), json!([1, 2]));
            o.insert("names".into(), json!(["One", "Two"]));
            o.insert("observables".into(), json!([{"name": "thing.b", "type_id": 5}, {"name": "things[0].port", "type_id": 11}]));
        });
        assert_eq!(s.validate(&rich), vec![]);
    }

    #[test]
    fn each_rule_is_enforced() {
        let s = mini();
        use ProblemKind::*;
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.remove("time");
                })
            ),
            vec![RequiredMissing]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("time".into(), Value::Null);
                })
            ),
            vec![RequiredMissing]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("time".into(), json!("2026"));
                })
            ),
            vec![WrongType]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("time".into(), json!(1.5));
                })
            ),
            vec![WrongType]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("bogus".into(), json!(1));
                })
            ),
            vec![AttributeUnknown]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("gated".into(), json!("x"));
                })
            ),
            vec![ProfileNotApplied]
        );
        let gated_ok = with(good(), |o| {
            o.insert("gated".into(), json!("x"));
            o.insert(
                "metadata".into(),
                json!({"version": "1.8.0", "profiles": ["security_control"]}),
            );
        });
        assert_eq!(kinds(&s, &gated_ok), vec![]);
        let bad_profile = with(good(), |o| {
            o.insert(
                "metadata".into(),
                json!({"version": "1.8.0", "profiles": ["nope"]}),
            );
        });
        assert_eq!(kinds(&s, &bad_profile), vec![ProfileUnknown]);
        let wrong_activity = with(good(), |o| {
            o.insert("activity_id".into(), json!(7));
        });
        assert_eq!(
            kinds(&s, &wrong_activity),
            vec![EnumValueUnknown, TypeUidIncorrect]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("activity_name".into(), json!("Went"));
                })
            ),
            vec![EnumSiblingIncorrect]
        );
        let other = with(good(), |o| {
            o.insert("activity_id".into(), json!(99));
            o.insert("activity_name".into(), json!("Other"));
            o.insert("type_uid".into(), json!(900199));
        });
        assert_eq!(kinds(&s, &other), vec![EnumSiblingSuspiciousOther]);
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("type_uid".into(), json!(900102));
                })
            ),
            vec![TypeUidIncorrect]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("category_uid".into(), json!(4));
                })
            ),
            vec![CategoryUidIncorrect]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("class_uid".into(), json!(1));
                })
            ),
            vec![ClassUnknown]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("thing".into(), json!({"port": 70000}));
                })
            ),
            vec![OutOfRange, ConstraintFailed]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("thing".into(), json!({"a": "x", "ratio": 1}));
                })
            ),
            vec![WrongType]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("things".into(), json!([{"a": "x"}, "y"]));
                })
            ),
            vec![WrongType]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("thing".into(), json!({"a": "x", "old": "y"}));
                })
            ),
            vec![Deprecated]
        );
        assert_eq!(
            kinds(
                &s,
                &with(good(), |o| {
                    o.insert("thing".into(), json!({"b": "not an email"}));
                })
            ),
            vec![FormatMismatch]
        );
        let arr = with(good(), |o| {
            o.insert("ids".into(), json!([1, 3, 2]));
            o.insert("names".into(), json!(["One", "x", "Three"]));
        });
        assert_eq!(
            kinds(&s, &arr),
            vec![EnumValueUnknown, EnumSiblingIncorrect]
        );
        let obs = with(good(), |o| {
            o.insert(
                "observables".into(),
                json!([{"name": "thing.nope", "type_id": 1}, {"name": "thing.b", "type_id": 2}]),
            );
        });
        assert_eq!(
            kinds(&s, &obs),
            vec![ObservableNameInvalid, ObservableTypeMismatch]
        );
        let newer = with(good(), |o| {
            o.insert("metadata".into(), json!({"version": "1.9.0"}));
        });
        assert_eq!(kinds(&s, &newer), vec![VersionIncompatible]);
        let older = with(good(), |o| {
            o.insert("metadata".into(), json!({"version": "1.7.0"}));
        });
        assert_eq!(kinds(&s, &older), vec![VersionMismatch]);
        assert_eq!(kinds(&s, &json!([1])), vec![EventNotObject]);
    }

    #[test]
    fn versions_compare_semantically() {
        assert!(parse_version("1.10.0") > parse_version("1.9.0"));
        assert!(parse_version("1.9.0-dev") < parse_version("1.9.0"));
        assert!(parse_version("1.9.0-rc.2") > parse_version("1.9.0-rc.1"));
        assert_eq!(parse_version("1.8"), None);
        assert_eq!(parse_version("1.8.0.1"), None);
        assert_eq!(parse_version("1.8.0-beta"), None);
    }

    #[test]
    fn problems_display_with_level_and_path() {
        let p = Problem {
            severity: Severity::Warning,
            kind: ProblemKind::FormatMismatch,
            path: "email.from".into(),
            message: "value does not match the format of email_t".into(),
        };
        assert_eq!(
            p.to_string(),
            "warning: email.from: value does not match the format of email_t"
        );
        assert_eq!(
            strip_tags("Use the <code>a</code> attribute."),
            "Use the a attribute."
        );
    }
}
