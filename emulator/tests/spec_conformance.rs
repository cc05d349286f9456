//! Spec conformance: every response the emulator gives during the Secondary Customer Profile flow, for
//! the list / fetch / update / delete calls of the flow's resources, during the A2P 10DLC journey
//! (Messaging v1: brand registrations, vettings, Messaging Services, their phone numbers and campaigns,
//! use cases, preregistered campaigns), and after submission (a rejection per requirement, the fix and
//! the resubmission, the SHAKEN/STIR and CNAM trust products), validates against the response schema the pinned official Twilio
//! spec (`.cache/spec/twilio-alpha-mcp-0.7.0/*.json`: Trust Hub, the 2010 API and Messaging, fetched by
//! `cargo xtask spec`) declares for that operation and status.
//!
//! The emulator is driven over HTTP with plain reqwest (never the workspace's client crates). Every
//! exchange is recorded as (method, path, status, JSON body); the operation is found by matching the
//! method and path against the spec's path templates, so a path the spec does not have is a failure too.
//!
//! The validator below is deliberately small and strict. It understands the keywords these specs use
//! (`$ref`, `type`, `nullable`, `properties`, `required`, `items`, `enum`, `format`, `pattern`,
//! `minLength`, `maxLength`) and reports anything else as unsupported rather than passing it. An object
//! key the schema does not list is a failure (Twilio's spec lists every key). A schema with no type and
//! no constraints (`{}`, or only a description) accepts anything.
//!
//! Formats: `date-time` is RFC 3339; `date-time-rfc-2822` is RFC 2822; `uri` is an absolute http(s) URL,
//! except that a property named `uri` or `*_uri` (the 2010 API's convention: "relative to
//! `https://api.twilio.com`", and the spec's own examples) may hold an absolute path; `uri-map` is an
//! object whose values are such URLs; `iso-country-code` is two upper-case letters; `phone-number` is
//! E.164; `http-method` an HTTP method name; `phone-number-capabilities` is structural only. An unknown
//! format is a failure.
//!
//! Error bodies: the pinned spec declares only 2xx responses for these operations, so 4xx/5xx bodies are
//! checked against [`ERROR_SCHEMA`], Twilio's documented error body `{code, message, more_info, status}`
//! (optional `details`), with the same validator, plus `status` equal to the HTTP status and
//! `more_info` ending in the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use reqwest::Method;
use serde_json::{json, Value};
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::OffsetDateTime;
use trusthub_emulator::{policies, start, Decision, EmulatorConfig, Faults, RequirementRejection};

// =========================================================================================================
// The pinned spec
// =========================================================================================================

/// Directory of the pinned spec files, relative to the workspace root.
const SPEC_DIR: &str = ".cache/spec/twilio-alpha-mcp-0.7.0";

/// Twilio's error body (not declared by the pinned spec, which lists only 2xx responses).
const ERROR_SCHEMA: &str = r#"{
  "type": "object",
  "required": ["code", "message", "more_info", "status"],
  "properties": {
    "code": {"type": "integer"},
    "message": {"type": "string", "minLength": 1},
    "more_info": {"type": "string", "format": "uri"},
    "status": {"type": "integer"},
    "details": {"type": "object", "nullable": true}
  }
}"#;

/// The spec documents, by file name.
struct Spec {
    docs: Vec<(String, Value)>,
}

/// One operation of the spec.
struct Operation<'a> {
    /// The document holding it (where its `$ref`s resolve).
    doc: &'a Value,
    id: String,
    responses: &'a Value,
}

impl Spec {
    /// Loads every `*.json` of the pinned spec directory; panics with the command to run if it is missing.
    fn load() -> Spec {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(SPEC_DIR);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "the pinned spec is missing ({}: {e}); run `cargo xtask spec`",
                dir.display()
            )
        });
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            panic!("no spec files in {}; run `cargo xtask spec`", dir.display());
        }
        for needed in [
            "twilio_trusthub_v1.json",
            "twilio_api_v2010.json",
            "twilio_messaging_v1.json",
        ] {
            if !files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == needed))
            {
                panic!(
                    "{needed} is missing from {}; run `cargo xtask spec`",
                    dir.display()
                );
            }
        }
        let docs = files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path)
                    .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask spec`", path.display()));
                let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!(
                        "{} is not JSON ({e}); run `cargo xtask spec`",
                        path.display()
                    )
                });
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, doc)
            })
            .collect();
        Spec { docs }
    }

    /// The operation serving `method path` (a concrete path, no query): the path template with the most
    /// literal segments among those matching.
    fn operation(&self, method: &Method, path: &str) -> Option<Operation<'_>> {
        let verb = method.as_str().to_ascii_lowercase();
        let mut best: Option<(usize, Operation<'_>)> = None;
        for (_, doc) in &self.docs {
            let Some(paths) = doc["paths"].as_object() else {
                continue;
            };
            for (template, item) in paths {
                let Some(score) = template_match(template, path) else {
                    continue;
                };
                let Some(op) = item.get(&verb) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((
                        score,
                        Operation {
                            doc,
                            id: op["operationId"].as_str().unwrap_or("?").to_owned(),
                            responses: &op["responses"],
                        },
                    ));
                }
            }
        }
        best.map(|(_, op)| op)
    }

    /// A component schema by name, with its document (for the unit tests).
    fn schema(&self, name: &str) -> (&Value, &Value) {
        for (_, doc) in &self.docs {
            if let Some(schema) = doc["components"]["schemas"].get(name) {
                return (doc, schema);
            }
        }
        panic!("no schema {name} in the spec")
    }

    /// The first example of an operation's response (for the unit tests).
    fn example(&self, operation_id: &str, status: &str) -> &Value {
        for (_, doc) in &self.docs {
            for item in doc["paths"]
                .as_object()
                .into_iter()
                .flat_map(|p| p.values())
            {
                for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                    if op["operationId"] == operation_id {
                        let examples =
                            &op["responses"][status]["content"]["application/json"]["examples"];
                        if let Some(first) = examples.as_object().and_then(|e| e.values().next()) {
                            return &first["value"];
                        }
                    }
                }
            }
        }
        panic!("no example for {operation_id} {status}")
    }
}

/// Whether a concrete path matches a path template (`{Param}` segments, possibly with a literal suffix
/// such as `{Sid}.json`); returns the number of literal segments.
fn template_match(template: &str, path: &str) -> Option<usize> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut literal = 0;
    for (ts, ps) in t.iter().zip(&p) {
        match (ts.find('{'), ts.find('}')) {
            (Some(open), Some(close)) if open < close => {
                let (prefix, suffix) = (&ts[..open], &ts[close + 1..]);
                let ok = ps.len() > prefix.len() + suffix.len()
                    && ps.starts_with(prefix)
                    && ps.ends_with(suffix);
                if !ok {
                    return None;
                }
            }
            _ if ts == ps => literal += 1,
            _ => return None,
        }
    }
    Some(literal)
}

// =========================================================================================================
// The validator
// =========================================================================================================

/// One way a value does not match its schema.
#[derive(Debug, Clone)]
struct Failure {
    /// JSON path of the value, e.g. `$.results[0].sid`.
    path: String,
    reason: String,
}

/// Keywords the validator enforces.
const ENFORCED: [&str; 11] = [
    "$ref",
    "type",
    "nullable",
    "properties",
    "required",
    "items",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
];
/// Keywords that carry no constraint (`default` documents what the server assumes when a value is not
/// sent; it constrains no answer).
const ANNOTATIONS: [&str; 6] = [
    "title",
    "description",
    "example",
    "readOnly",
    "deprecated",
    "default",
];

/// Validates values against schemas of one spec document.
struct Validator<'a> {
    root: &'a Value,
}

impl<'a> Validator<'a> {
    fn new(root: &'a Value) -> Self {
        Validator { root }
    }

    /// Every failure of `value` against `schema`.
    fn check(&self, schema: &Value, value: &Value) -> Vec<Failure> {
        let mut out = Vec::new();
        self.walk(schema, value, "$", None, 0, &mut out);
        out
    }

    fn resolve<'b>(
        &'b self,
        schema: &'b Value,
        path: &str,
        out: &mut Vec<Failure>,
    ) -> Option<&'b Value> {
        let mut schema = schema;
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref") else {
                return Some(schema);
            };
            let target = reference
                .as_str()
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| self.root.pointer(pointer));
            match target {
                Some(target) => schema = target,
                None => {
                    fail(out, path, format!("unresolvable $ref {reference}"));
                    return None;
                }
            }
        }
        fail(out, path, "$ref chain too long");
        None
    }

    fn walk(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        property: Option<&str>,
        depth: usize,
        out: &mut Vec<Failure>,
    ) {
        if depth > 64 {
            fail(out, path, "schema nesting too deep");
            return;
        }
        let Some(schema) = self.resolve(schema, path, out) else {
            return;
        };
        let Some(keywords) = schema.as_object() else {
            fail(out, path, "schema is not an object");
            return;
        };
        for key in keywords.keys() {
            let known = ENFORCED.contains(&key.as_str())
                || ANNOTATIONS.contains(&key.as_str())
                || key.starts_with("x-");
            if !known {
                fail(out, path, format!("unsupported schema keyword '{key}'"));
            }
        }
        if value.is_null() {
            // An untyped schema accepts anything, null included; a typed one only when nullable.
            if keywords.contains_key("type") && schema["nullable"] != true {
                fail(out, path, "null where the schema is not nullable");
            }
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            let shown: Vec<String> = allowed.iter().map(Value::to_string).collect();
            fail(
                out,
                path,
                format!("{value} is not one of [{}]", shown.join(", ")),
            );
        }
        let Some(expected) = schema.get("type") else {
            return;
        };
        let type_ok = match expected.as_str() {
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            _ => {
                fail(out, path, format!("unsupported type {expected}"));
                return;
            }
        };
        if !type_ok {
            fail(
                out,
                path,
                format!("expected {}, found {}", expected, kind_of(value)),
            );
            return;
        }
        if let Some(text) = value.as_str() {
            self.check_string(schema, text, path, property, out);
        }
        if let Some(format) = schema.get("format").and_then(Value::as_str)
            && !value.is_string()
        {
            check_structural_format(format, value, path, out);
        }
        if let Some(object) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(name) {
                        fail(out, path, format!("required property '{name}' is missing"));
                    }
                }
            }
            if let Some(properties) = properties {
                for (key, item) in object {
                    let item_path = format!("{path}.{key}");
                    match properties.get(key) {
                        Some(sub) => self.walk(sub, item, &item_path, Some(key), depth + 1, out),
                        None => fail(
                            out,
                            &item_path,
                            "property not in the schema (additional properties are not allowed)",
                        ),
                    }
                }
            }
        }
        if let Some(items) = value.as_array()
            && let Some(item_schema) = schema.get("items")
        {
            for (i, item) in items.iter().enumerate() {
                self.walk(
                    item_schema,
                    item,
                    &format!("{path}[{i}]"),
                    property,
                    depth + 1,
                    out,
                );
            }
        }
    }

    fn check_string(
        &self,
        schema: &Value,
        text: &str,
        path: &str,
        property: Option<&str>,
        out: &mut Vec<Failure>,
    ) {
        let length = text.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && length < min
        {
            fail(
                out,
                path,
                format!("{length} characters, fewer than minLength {min}"),
            );
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && length > max
        {
            fail(
                out,
                path,
                format!("{length} characters, more than maxLength {max}"),
            );
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            match Pattern::parse(pattern) {
                Ok(compiled) => {
                    if !compiled.matches(text) {
                        fail(
                            out,
                            path,
                            format!("{} does not match {pattern}", quoted(text)),
                        );
                    }
                }
                Err(why) => fail(out, path, format!("unsupported pattern {pattern}: {why}")),
            }
        }
        if let Some(format) = schema.get("format").and_then(Value::as_str)
            && let Err(why) = check_string_format(format, text, property)
        {
            fail(out, path, why);
        }
    }
}

fn fail(out: &mut Vec<Failure>, path: &str, reason: impl Into<String>) {
    out.push(Failure {
        path: path.to_owned(),
        reason: reason.into(),
    });
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A string for a failure message, shortened.
fn quoted(text: &str) -> String {
    let short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

/// An absolute http(s) URL with a host, or (when `path_allowed`) an absolute path.
fn check_uri(text: &str, path_allowed: bool) -> Result<(), String> {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{} is not a URI (whitespace)", quoted(text)));
    }
    if path_allowed && text.starts_with('/') && !text.starts_with("//") {
        return reqwest::Url::parse("https://api.twilio.com")
            .and_then(|base| base.join(text))
            .map(|_| ())
            .map_err(|e| format!("{} is not a URI path ({e})", quoted(text)));
    }
    match reqwest::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(()),
        Ok(_) => Err(format!(
            "{} is not an http(s) URL with a host",
            quoted(text)
        )),
        Err(e) => Err(format!(
            "{} is not an absolute URI ({e}){}",
            quoted(text),
            if path_allowed {
                ""
            } else {
                "; this property must hold an absolute URL"
            }
        )),
    }
}

/// String formats.
fn check_string_format(format: &str, text: &str, property: Option<&str>) -> Result<(), String> {
    match format {
        "date-time" => OffsetDateTime::parse(text, &Rfc3339)
            .map(|_| ())
            .map_err(|e| format!("{} is not an RFC 3339 date-time ({e})", quoted(text))),
        "date-time-rfc-2822" => OffsetDateTime::parse(text, &Rfc2822)
            .map(|_| ())
            .map_err(|e| format!("{} is not an RFC 2822 date-time ({e})", quoted(text))),
        "uri" => {
            let relative_ok = property.is_some_and(|p| p == "uri" || p.ends_with("_uri"));
            check_uri(text, relative_ok)
        }
        "iso-country-code" => {
            if text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase()) {
                Ok(())
            } else {
                Err(format!(
                    "{} is not an ISO 3166-1 alpha-2 code",
                    quoted(text)
                ))
            }
        }
        "phone-number" => {
            let digits = text.strip_prefix('+').unwrap_or("");
            let ok = (2..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            if ok {
                Ok(())
            } else {
                Err(String::from(
                    "not an E.164 phone number (+ then 2 to 15 digits)",
                ))
            }
        }
        "http-method" => {
            const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
            if METHODS.contains(&text) {
                Ok(())
            } else {
                Err(format!("{} is not an HTTP method", quoted(text)))
            }
        }
        other => Err(format!("unknown string format '{other}'")),
    }
}

/// Formats of non-string values.
fn check_structural_format(format: &str, value: &Value, path: &str, out: &mut Vec<Failure>) {
    match format {
        "uri-map" => match value.as_object() {
            Some(map) => {
                for (key, url) in map {
                    let item_path = format!("{path}.{key}");
                    match url.as_str() {
                        Some(text) => {
                            if let Err(why) = check_uri(text, false) {
                                fail(out, &item_path, why);
                            }
                        }
                        None => fail(
                            out,
                            &item_path,
                            format!("uri-map value is {}, not a string", kind_of(url)),
                        ),
                    }
                }
            }
            None => fail(out, path, "uri-map is not an object"),
        },
        // Checked structurally by the schema's own `properties`.
        "phone-number-capabilities" => {}
        other => fail(
            out,
            path,
            format!("unknown format '{other}' for a {}", kind_of(value)),
        ),
    }
}

// ---------------------------------------------------------------------------------------------------------
// A tiny anchored pattern matcher: `^`, `$`, literal characters, `[...]` classes with ranges and
// quantifiers `{n}` / `{n,m}` / `?` / `*` / `+`. Anything else is refused (reported, never passed).
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug)]
enum Atom {
    Literal(char),
    Class(Vec<(char, char)>),
}

impl Atom {
    fn accepts(&self, c: char) -> bool {
        match self {
            Atom::Literal(l) => *l == c,
            Atom::Class(ranges) => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)),
        }
    }
}

#[derive(Debug)]
struct Pattern {
    anchored_start: bool,
    anchored_end: bool,
    atoms: Vec<(Atom, usize, usize)>,
}

impl Pattern {
    fn parse(pattern: &str) -> Result<Pattern, String> {
        let mut chars = pattern.chars().peekable();
        let anchored_start = chars.next_if_eq(&'^').is_some();
        let mut anchored_end = false;
        let mut atoms = Vec::new();
        while let Some(c) = chars.next() {
            let atom = match c {
                '$' if chars.peek().is_none() => {
                    anchored_end = true;
                    break;
                }
                '[' => {
                    let mut ranges = Vec::new();
                    loop {
                        let lo = chars.next().ok_or("unclosed [")?;
                        if lo == ']' {
                            break;
                        }
                        if lo == '\\' || lo == '^' {
                            return Err(format!("'{lo}' in a class"));
                        }
                        if chars.next_if_eq(&'-').is_some() {
                            let hi = chars.next().ok_or("unclosed range")?;
                            ranges.push((lo, hi));
                        } else {
                            ranges.push((lo, lo));
                        }
                    }
                    Atom::Class(ranges)
                }
                '\\' | '(' | ')' | '|' | '.' | '{' | '}' | '?' | '*' | '+' | '$' | '^' => {
                    return Err(format!("'{c}' is not supported here"));
                }
                literal => Atom::Literal(literal),
            };
            let (min, max) = match chars.peek() {
                Some('{') => {
                    chars.next();
                    let mut spec = String::new();
                    for d in chars.by_ref() {
                        if d == '}' {
                            break;
                        }
                        spec.push(d);
                    }
                    let number = |s: &str| s.trim().parse::<usize>().map_err(|e| e.to_string());
                    match spec.split_once(',') {
                        None => {
                            let n = number(&spec)?;
                            (n, n)
                        }
                        Some((a, "")) => (number(a)?, usize::MAX),
                        Some((a, b)) => (number(a)?, number(b)?),
                    }
                }
                Some('?') => {
                    chars.next();
                    (0, 1)
                }
                Some('*') => {
                    chars.next();
                    (0, usize::MAX)
                }
                Some('+') => {
                    chars.next();
                    (1, usize::MAX)
                }
                _ => (1, 1),
            };
            atoms.push((atom, min, max));
        }
        Ok(Pattern {
            anchored_start,
            anchored_end,
            atoms,
        })
    }

    fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let starts: Vec<usize> = if self.anchored_start {
            vec![0]
        } else {
            (0..=chars.len()).collect()
        };
        starts
            .into_iter()
            .any(|start| self.match_at(&chars, start, 0))
    }

    fn match_at(&self, chars: &[char], at: usize, atom: usize) -> bool {
        let Some((a, min, max)) = self.atoms.get(atom) else {
            return !self.anchored_end || at == chars.len();
        };
        let mut count = 0;
        while count < *max && at + count < chars.len() && a.accepts(chars[at + count]) {
            count += 1;
        }
        (*min..=count)
            .rev()
            .any(|n| self.match_at(chars, at + n, atom + 1))
    }
}

// =========================================================================================================
// Driving the emulator
// =========================================================================================================

/// One recorded exchange.
struct Exchange {
    method: Method,
    path: String,
    status: u16,
    content_type: Option<String>,
    /// `None` for an empty body.
    body: Option<Value>,
}

/// A reqwest client with the account's credentials that records every exchange.
struct Driver {
    http: reqwest::Client,
    base: String,
    account: String,
    password: String,
    log: Vec<Exchange>,
}

impl Driver {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// `/2010-04-01/Accounts/{AccountSid}` + `rest`.
    fn account_path(&self, rest: &str) -> String {
        format!("/2010-04-01/Accounts/{}{rest}", self.account)
    }

    /// Sends a request (with credentials unless `anonymous`), records it and returns status and body.
    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
        anonymous: bool,
    ) -> (u16, Value) {
        let url = self.url(path);
        let mut request = self.http.request(method.clone(), &url);
        if !anonymous {
            request = request.basic_auth(&self.account, Some(&self.password));
        }
        if !form.is_empty() {
            request = request.form(form);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            None
        } else {
            Some(serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{method} {url}: body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            }))
        };
        let parsed = reqwest::Url::parse(&url).expect("a URL");
        self.log.push(Exchange {
            method,
            path: parsed.path().to_owned(),
            status,
            content_type,
            body: body.clone(),
        });
        (status, body.unwrap_or(Value::Null))
    }

    /// A request that must answer `expected`; returns the body.
    async fn expect(
        &mut self,
        expected: u16,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> Value {
        let (status, body) = self.exchange(method.clone(), path, form, false).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        body
    }

    async fn get(&mut self, path: &str) -> Value {
        self.expect(200, Method::GET, path, &[]).await
    }

    async fn create(&mut self, path: &str, form: &[(&str, &str)]) -> String {
        let body = self.expect(201, Method::POST, path, form).await;
        body["sid"].as_str().expect("a sid").to_owned()
    }

    async fn update(&mut self, path: &str, form: &[(&str, &str)]) -> Value {
        self.expect(200, Method::POST, path, form).await
    }

    async fn delete(&mut self, path: &str) {
        self.expect(204, Method::DELETE, path, &[]).await;
    }
}

fn business_information() -> String {
    json!({
        "business_name": "acme business",
        "social_media_profile_urls": "",
        "website_url": "https://acme.example.com",
        "business_regions_of_operation": "USA_AND_CANADA",
        "business_type": "Partnership",
        "business_registration_identifier": "EIN",
        "business_identity": "direct_customer",
        "business_industry": "EDUCATION",
        "business_registration_number": "123456789",
    })
    .to_string()
}

fn representative(n: u8) -> String {
    json!({
        "job_position": "CEO",
        "last_name": "acme",
        "phone_number": "+14155550102",
        "first_name": format!("rep{n}"),
        "email": format!("rep{n}@acme.example.com"),
        "business_title": "ceo",
    })
    .to_string()
}

/// The seed document's flow (steps 1-10) to approval, a rejected submission, then the list / fetch /
/// update / delete calls of every resource, pagination links, a trust product, and error answers.
/// Returns the approved secondary customer profile.
async fn drive(d: &mut Driver, emulator: &trusthub_emulator::Emulator) -> String {
    let secondary = policies::SECONDARY_CUSTOMER_PROFILE;
    let primary = emulator.primary_profile_sid().to_owned();
    let phone = emulator.phone_number_sids()[0].clone();

    // Step 1: the policy, and the policy list with a second page (non-null previous/next links).
    d.get(&format!("/v1/Policies/{secondary}")).await;
    let page = d.get("/v1/Policies?PageSize=2").await;
    let next = page["meta"]["next_page_url"]
        .as_str()
        .expect("a second page")
        .to_owned();
    d.get(&next).await;

    // Steps 2-7: the profile and its parts.
    let profile = d
        .create(
            "/v1/CustomerProfiles",
            &[
                ("FriendlyName", "Acme Secondary"),
                ("Email", "compliance@acme.example.com"),
                ("PolicySid", secondary),
                ("StatusCallback", "http://127.0.0.1:9/status"),
            ],
        )
        .await;
    let business_attributes = business_information();
    let business = d
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "business information"),
                ("Type", "customer_profile_business_information"),
                ("Attributes", &business_attributes),
            ],
        )
        .await;
    let mut representatives = Vec::new();
    for n in [1u8, 2] {
        let attributes = representative(n);
        let end_user_type = format!("authorized_representative_{n}");
        representatives.push(
            d.create(
                "/v1/EndUsers",
                &[
                    ("FriendlyName", "representative"),
                    ("Type", &end_user_type),
                    ("Attributes", &attributes),
                ],
            )
            .await,
        );
    }
    let addresses = d.account_path("/Addresses.json");
    let address = d
        .create(
            &addresses,
            &[
                ("CustomerName", "Acme"),
                ("Street", "555 Main Street"),
                ("StreetSecondary", "Suite 200"),
                ("City", "San Francisco"),
                ("Region", "CA"),
                ("PostalCode", "94105"),
                ("IsoCountry", "US"),
                ("FriendlyName", "HQ"),
            ],
        )
        .await;
    let document_attributes = json!({ "address_sids": address }).to_string();
    let document = d
        .create(
            "/v1/SupportingDocuments",
            &[
                ("FriendlyName", "address"),
                ("Type", "customer_profile_address"),
                ("Attributes", &document_attributes),
            ],
        )
        .await;

    // Step 8: assignments.
    let assignments = format!("/v1/CustomerProfiles/{profile}/EntityAssignments");
    let mut assignment_sids = Vec::new();
    for object in [
        business.as_str(),
        &representatives[0],
        &representatives[1],
        &document,
        &primary,
    ] {
        assignment_sids.push(d.create(&assignments, &[("ObjectSid", object)]).await);
    }
    let channels = format!("/v1/CustomerProfiles/{profile}/ChannelEndpointAssignments");
    let channel = d
        .create(
            &channels,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", &phone),
            ],
        )
        .await;

    // Step 9: evaluation.
    let evaluations = format!("/v1/CustomerProfiles/{profile}/Evaluations");
    let evaluation = d
        .expect(201, Method::POST, &evaluations, &[("PolicySid", secondary)])
        .await;
    assert_eq!(evaluation["status"], "compliant", "{evaluation}");
    let evaluation_sid = evaluation["sid"].as_str().unwrap().to_owned();

    // Lists and fetches of everything the flow created, before the submission.
    let profile_path = format!("/v1/CustomerProfiles/{profile}");
    d.update(&profile_path, &[("FriendlyName", "Acme Secondary Profile")])
        .await;
    d.get(&profile_path).await;
    d.get("/v1/CustomerProfiles?FriendlyName=Acme%20Secondary%20Profile")
        .await;
    let page = d.get("/v1/CustomerProfiles?PageSize=1").await;
    let next = page["meta"]["next_page_url"]
        .as_str()
        .expect("a second page of profiles")
        .to_owned();
    let page = d.get(&next).await;
    assert!(page["meta"]["previous_page_url"].is_string(), "{page}");
    d.get(&format!(
        "/v1/CustomerProfiles?Status=draft&PolicySid={secondary}"
    ))
    .await;
    d.get(&assignments).await;
    d.get(&format!("{assignments}?PageSize=2")).await;
    d.get(&format!("{assignments}/{}", assignment_sids[0]))
        .await;
    d.get(&channels).await;
    d.get(&format!("{channels}/{channel}")).await;
    d.get(&evaluations).await;
    d.get(&format!("{evaluations}/{evaluation_sid}")).await;
    d.get("/v1/EndUsers").await;
    d.get(&format!("/v1/EndUsers/{business}")).await;
    d.get("/v1/SupportingDocuments").await;
    d.get(&format!("/v1/SupportingDocuments/{document}")).await;
    d.get(&addresses).await;
    d.get(&format!("{addresses}?PageSize=1&IsoCountry=US"))
        .await;
    let address_path = d.account_path(&format!("/Addresses/{address}.json"));
    d.get(&address_path).await;
    let types = d.get("/v1/EndUserTypes").await;
    let type_sid = types["end_user_types"][0]["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    d.get(&format!("/v1/EndUserTypes/{type_sid}")).await;
    d.get("/v1/EndUserTypes/customer_profile_business_information")
        .await;
    let types = d.get("/v1/SupportingDocumentTypes").await;
    let type_sid = types["supporting_document_types"][0]["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    d.get(&format!("/v1/SupportingDocumentTypes/{type_sid}"))
        .await;
    let numbers = d.account_path("/IncomingPhoneNumbers.json");
    let page = d.get(&format!("{numbers}?PageSize=1")).await;
    let next = page["next_page_uri"]
        .as_str()
        .expect("a second page of numbers")
        .to_owned();
    d.get(&next).await;
    d.get(&numbers).await;
    d.get(&d.account_path(&format!("/IncomingPhoneNumbers/{phone}.json")))
        .await;

    // Step 10: submission -> in-review -> approved.
    let submitted = d
        .update(&profile_path, &[("Status", "pending-review")])
        .await;
    assert_eq!(submitted["status"], "pending-review", "{submitted}");
    let reviewed = d.get(&profile_path).await;
    assert_eq!(reviewed["status"], "in-review", "{reviewed}");
    emulator
        .decide(&profile, Decision::Approve)
        .await
        .expect("in review");
    let approved = d.get(&profile_path).await;
    assert_eq!(approved["status"], "twilio-approved", "{approved}");
    d.get("/v1/CustomerProfiles").await;

    // A submission that Twilio rejects: `errors` filled.
    let rejected = d
        .create(
            "/v1/CustomerProfiles",
            &[
                ("FriendlyName", "Empty"),
                ("Email", "empty@acme.example.com"),
                ("PolicySid", secondary),
            ],
        )
        .await;
    let rejected_path = format!("/v1/CustomerProfiles/{rejected}");
    d.update(&rejected_path, &[("Status", "pending-review")])
        .await;
    let body = d.get(&rejected_path).await;
    assert_eq!(body["status"], "twilio-rejected", "{body}");
    assert!(body["errors"].is_array(), "{body}");
    d.get(&format!("/v1/CustomerProfiles/{rejected}/Evaluations"))
        .await;

    // Updates and deletes on a scratch profile and scratch resources.
    d.update(
        &format!("/v1/EndUsers/{business}"),
        &[("FriendlyName", "business information (renamed)")],
    )
    .await;
    d.update(
        &format!("/v1/SupportingDocuments/{document}"),
        &[("FriendlyName", "address document")],
    )
    .await;
    d.update(
        &address_path,
        &[("FriendlyName", "Headquarters"), ("StreetSecondary", "")],
    )
    .await;
    let scratch = d
        .create(
            "/v1/CustomerProfiles",
            &[
                ("FriendlyName", "Scratch"),
                ("Email", "scratch@acme.example.com"),
                ("PolicySid", secondary),
            ],
        )
        .await;
    let scratch_user = d
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "scratch"),
                ("Type", "authorized_representative_1"),
                ("Attributes", &representative(3)),
            ],
        )
        .await;
    let scratch_address = d
        .create(
            &addresses,
            &[
                ("CustomerName", "Scratch"),
                ("Street", "1 Scratch Road"),
                ("City", "Oakland"),
                ("Region", "CA"),
                ("PostalCode", "94607"),
                ("IsoCountry", "US"),
            ],
        )
        .await;
    let scratch_document_attributes = json!({ "address_sids": scratch_address }).to_string();
    let scratch_document = d
        .create(
            "/v1/SupportingDocuments",
            &[
                ("FriendlyName", "scratch"),
                ("Type", "customer_profile_address"),
                ("Attributes", &scratch_document_attributes),
            ],
        )
        .await;
    let scratch_assignments = format!("/v1/CustomerProfiles/{scratch}/EntityAssignments");
    let scratch_assignment = d
        .create(&scratch_assignments, &[("ObjectSid", &scratch_user)])
        .await;
    let scratch_channels = format!("/v1/CustomerProfiles/{scratch}/ChannelEndpointAssignments");
    let scratch_channel = d
        .create(
            &scratch_channels,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", &phone),
            ],
        )
        .await;
    let scratch_evaluation = d
        .expect(
            201,
            Method::POST,
            &format!("/v1/CustomerProfiles/{scratch}/Evaluations"),
            &[("PolicySid", secondary)],
        )
        .await;
    assert_eq!(scratch_evaluation["status"], "noncompliant");
    d.delete(&format!("{scratch_assignments}/{scratch_assignment}"))
        .await;
    d.delete(&format!("{scratch_channels}/{scratch_channel}"))
        .await;
    d.delete(&format!("/v1/EndUsers/{scratch_user}")).await;
    d.delete(&format!("/v1/SupportingDocuments/{scratch_document}"))
        .await;
    d.delete(&d.account_path(&format!("/Addresses/{scratch_address}.json")))
        .await;
    d.delete(&format!("/v1/CustomerProfiles/{scratch}")).await;

    // A trust product (same shapes under /v1/TrustProducts).
    let product = d
        .create(
            "/v1/TrustProducts",
            &[
                ("FriendlyName", "A2P"),
                ("Email", "a2p@acme.example.com"),
                ("PolicySid", policies::A2P_TRUST_PRODUCT),
            ],
        )
        .await;
    d.get(&format!("/v1/TrustProducts/{product}")).await;
    d.get("/v1/TrustProducts").await;
    let product_assignments = format!("/v1/TrustProducts/{product}/EntityAssignments");
    d.create(&product_assignments, &[("ObjectSid", &profile)])
        .await;
    d.get(&product_assignments).await;
    d.expect(
        201,
        Method::POST,
        &format!("/v1/TrustProducts/{product}/Evaluations"),
        &[("PolicySid", policies::A2P_TRUST_PRODUCT)],
    )
    .await;

    // Error answers.
    let (status, _) = d
        .exchange(Method::GET, "/v1/CustomerProfiles", &[], true)
        .await;
    assert_eq!(status, 401);
    d.expect(
        404,
        Method::GET,
        "/v1/CustomerProfiles/BU00000000000000000000000000000000",
        &[],
    )
    .await;
    d.expect(404, Method::GET, "/v1/NoSuchResource", &[]).await;
    d.expect(
        404,
        Method::GET,
        "/2010-04-01/Accounts/AC00000000000000000000000000000000/Addresses.json",
        &[],
    )
    .await;
    d.expect(405, Method::DELETE, "/v1/Policies", &[]).await;
    d.expect(
        400,
        Method::POST,
        "/v1/CustomerProfiles",
        &[("Email", "x@acme.example.com"), ("PolicySid", secondary)],
    )
    .await;
    d.expect(
        400,
        Method::POST,
        "/v1/CustomerProfiles",
        &[
            ("FriendlyName", "x"),
            ("Email", "x@acme.example.com"),
            ("PolicySid", "RNnot-a-sid"),
        ],
    )
    .await;
    d.expect(400, Method::POST, &profile_path, &[("Status", "draft")])
        .await;
    d.expect(
        400,
        Method::POST,
        "/v1/EndUsers",
        &[
            ("FriendlyName", "x"),
            ("Type", "customer_profile_business_information"),
            ("Attributes", "[1,2]"),
        ],
    )
    .await;
    d.expect(400, Method::GET, "/v1/EndUsers?PageSize=0", &[])
        .await;
    for (faults, status) in [
        (Faults::none().with_rate_429(1.0, 0), 429),
        (Faults::none().with_rate_500(1.0), 500),
        (Faults::none().with_rate_503(1.0), 503),
    ] {
        emulator.set_faults(faults);
        d.expect(status, Method::GET, &profile_path, &[]).await;
    }
    emulator.set_faults(Faults::none());
    profile
}

/// After submission: a review's rejection per requirement, an unchanged resubmission (rejected again), the
/// fix (end user and address updates, a rename while rejected), the resubmission and approval; then the
/// voice trust products: SHAKEN/STIR and CNAM with their Business Profile, end user, phone numbers,
/// evaluations, submission and approval, and a refused number.
async fn drive_after_submission(d: &mut Driver, emulator: &trusthub_emulator::Emulator) {
    let secondary = policies::SECONDARY_CUSTOMER_PROFILE;
    let primary = emulator.primary_profile_sid().to_owned();
    let phones = emulator.phone_number_sids();
    let addresses = d.account_path("/Addresses.json");
    let address = d
        .create(
            &addresses,
            &[
                ("CustomerName", "Acme Fix"),
                ("Street", "5 Fix Road"),
                ("City", "Oakland"),
                ("Region", "CA"),
                ("PostalCode", "94607"),
                ("IsoCountry", "US"),
            ],
        )
        .await;
    let address_path = d.account_path(&format!("/Addresses/{address}.json"));
    let document_attributes = json!({ "address_sids": address }).to_string();
    let document = d
        .create(
            "/v1/SupportingDocuments",
            &[
                ("FriendlyName", "fix address"),
                ("Type", "customer_profile_address"),
                ("Attributes", &document_attributes),
            ],
        )
        .await;
    let business = d
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "fix business"),
                ("Type", "customer_profile_business_information"),
                ("Attributes", &business_information()),
            ],
        )
        .await;
    let mut parts = vec![business.clone(), document, primary];
    for n in [1u8, 2] {
        let end_user_type = format!("authorized_representative_{n}");
        parts.push(
            d.create(
                "/v1/EndUsers",
                &[
                    ("FriendlyName", "fix rep"),
                    ("Type", &end_user_type),
                    ("Attributes", &representative(n)),
                ],
            )
            .await,
        );
    }
    let profile = d
        .create(
            "/v1/CustomerProfiles",
            &[
                ("FriendlyName", "Acme Fix"),
                ("Email", "fix@acme.example.com"),
                ("PolicySid", secondary),
            ],
        )
        .await;
    let profile_path = format!("/v1/CustomerProfiles/{profile}");
    let assignments = format!("{profile_path}/EntityAssignments");
    for part in &parts {
        d.create(&assignments, &[("ObjectSid", part)]).await;
    }
    d.create(
        &format!("{profile_path}/ChannelEndpointAssignments"),
        &[
            ("ChannelEndpointType", "phone-number"),
            ("ChannelEndpointSid", &phones[2]),
        ],
    )
    .await;
    d.update(&profile_path, &[("Status", "pending-review")])
        .await;
    assert_eq!(d.get(&profile_path).await["status"], "in-review");
    emulator
        .decide(
            &profile,
            Decision::reject("The Business ID you provided could not be verified")
                .with_requirement(
                    RequirementRejection::new("customer_profile_business_information")
                        .field("business_registration_number"),
                )
                .with_requirement(
                    RequirementRejection::new("customer_profile_address").field("address_sids"),
                ),
        )
        .await
        .expect("in review");
    let rejected = d.get(&profile_path).await;
    assert_eq!(rejected["status"], "twilio-rejected", "{rejected}");
    assert_eq!(rejected["errors"][0]["object_sid"], business.as_str());
    // Unchanged: rejected again at once.
    d.update(&profile_path, &[("Status", "pending-review")])
        .await;
    assert_eq!(d.get(&profile_path).await["status"], "twilio-rejected");
    // The fix, while rejected.
    d.update(&profile_path, &[("FriendlyName", "Acme Fix (fixed)")])
        .await;
    let fixed_business = business_information().replace("123456789", "987654321");
    d.update(
        &format!("/v1/EndUsers/{business}"),
        &[("Attributes", &fixed_business)],
    )
    .await;
    d.update(&address_path, &[("Street", "6 Fix Road")]).await;
    d.update(&profile_path, &[("Status", "pending-review")])
        .await;
    assert_eq!(d.get(&profile_path).await["status"], "in-review");
    emulator
        .decide(&profile, Decision::Approve)
        .await
        .expect("in review");
    assert_eq!(d.get(&profile_path).await["status"], "twilio-approved");
    d.get(&format!("{profile_path}/Evaluations")).await;

    // SHAKEN/STIR and CNAM.
    let cnam_user = d
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "cnam"),
                ("Type", "cnam_information"),
                ("Attributes", r#"{"cnam_display_name":"Acme Fix"}"#),
            ],
        )
        .await;
    for (policy, end_user) in [
        (policies::SHAKEN_STIR, None),
        (policies::CNAM, Some(cnam_user.as_str())),
    ] {
        d.get(&format!("/v1/Policies/{policy}")).await;
        let product = d
            .create(
                "/v1/TrustProducts",
                &[
                    ("FriendlyName", "voice"),
                    ("Email", "voice@acme.example.com"),
                    ("PolicySid", policy),
                ],
            )
            .await;
        let product_path = format!("/v1/TrustProducts/{product}");
        let channels = format!("{product_path}/ChannelEndpointAssignments");
        d.expect(
            400,
            Method::POST,
            &channels,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", &phones[2]),
            ],
        )
        .await;
        let product_assignments = format!("{product_path}/EntityAssignments");
        d.create(&product_assignments, &[("ObjectSid", &profile)])
            .await;
        if let Some(user) = end_user {
            d.create(&product_assignments, &[("ObjectSid", user)]).await;
        }
        d.create(
            &channels,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", &phones[2]),
            ],
        )
        .await;
        d.get(&channels).await;
        let evaluation = d
            .expect(
                201,
                Method::POST,
                &format!("{product_path}/Evaluations"),
                &[("PolicySid", policy)],
            )
            .await;
        assert_eq!(evaluation["status"], "compliant", "{evaluation}");
        d.update(&product_path, &[("Status", "pending-review")])
            .await;
        emulator
            .decide(&product, Decision::Approve)
            .await
            .expect("in review");
        assert_eq!(d.get(&product_path).await["status"], "twilio-approved");
    }
    d.get("/v1/EndUserTypes/cnam_information").await;
}

/// A campaign's form: the spec example's texts, `usecase`, and the keyword lists repeated.
fn campaign_form<'a>(brand: &'a str, usecase: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("BrandRegistrationSid", brand),
        (
            "Description",
            "Send marketing messages about sales to opted in customers.",
        ),
        (
            "MessageFlow",
            "End users opt-in by visiting www.example.com and adding their phone number.",
        ),
        ("MessageSamples", "EXPRESS: Denim Days Event is ON"),
        (
            "MessageSamples",
            "LAST CHANCE: Book your next flight for just 1 (ONE) EUR",
        ),
        ("UsAppToPersonUsecase", usecase),
        ("HasEmbeddedLinks", "true"),
        ("HasEmbeddedPhone", "false"),
        (
            "OptInMessage",
            "Acme Corporation: You are now opted-in. Reply STOP to opt out.",
        ),
        ("OptInKeywords", "START"),
        ("OptInKeywords", "YES"),
        ("OptOutKeywords", "STOP"),
        ("HelpKeywords", "HELP"),
        ("SubscriberOptIn", "true"),
        ("AgeGated", "false"),
        ("DirectLending", "false"),
    ]
}

/// The A2P 10DLC journey on the approved secondary profile: an A2P trust product, brand registrations
/// (approved, failed and resubmitted, sole proprietor with its OTP, mock), vettings, a Messaging Service
/// with phone numbers, a campaign (created, verified, updated), use cases, a preregistered campaign, the
/// list / fetch / delete calls, and error answers.
async fn drive_messaging(d: &mut Driver, emulator: &trusthub_emulator::Emulator, profile: &str) {
    let phones = emulator.phone_number_sids();

    // The A2P trust product, submitted (in-review).
    let a2p_attributes = json!({"company_type": "private"}).to_string();
    let a2p_user = d
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "a2p profile"),
                ("Type", "us_a2p_messaging_profile_information"),
                ("Attributes", &a2p_attributes),
            ],
        )
        .await;
    let product = d
        .create(
            "/v1/TrustProducts",
            &[
                ("FriendlyName", "A2P messaging"),
                ("Email", "a2p@acme.example.com"),
                ("PolicySid", policies::A2P_TRUST_PRODUCT),
            ],
        )
        .await;
    let product_assignments = format!("/v1/TrustProducts/{product}/EntityAssignments");
    d.create(&product_assignments, &[("ObjectSid", &a2p_user)])
        .await;
    d.create(&product_assignments, &[("ObjectSid", profile)])
        .await;
    d.update(
        &format!("/v1/TrustProducts/{product}"),
        &[("Status", "pending-review")],
    )
    .await;
    let reviewed = d.get(&format!("/v1/TrustProducts/{product}")).await;
    assert_eq!(reviewed["status"], "in-review", "{reviewed}");

    // Brands: one approved, one failed with feedback and resubmitted, a sole proprietor, a mock.
    let brands = "/v1/a2p/BrandRegistrations";
    let brand_form = |brand_type: &'static str| {
        vec![
            ("CustomerProfileBundleSid", profile.to_owned()),
            ("A2PProfileBundleSid", product.clone()),
            ("BrandType", brand_type.to_owned()),
        ]
    };
    let form = brand_form("STANDARD");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = d.expect(201, Method::POST, brands, &form).await;
    assert_eq!(created["status"], "PENDING", "{created}");
    let brand = created["sid"].as_str().unwrap().to_owned();
    emulator
        .decide_brand(&brand, Decision::Approve)
        .await
        .expect("pending");
    let approved = d.get(&format!("{brands}/{brand}")).await;
    assert_eq!(approved["status"], "APPROVED", "{approved}");
    let failing = d.create(brands, &form).await;
    let control = d
        .http
        .post(format!(
            "{}/__emulator/brand-registrations/{failing}/decision",
            d.base
        ))
        .body(r#"{"decision":"reject","reason":"Tax ID does not match","feedback":["TAX_ID","OTHERS"]}"#)
        .send()
        .await
        .expect("the emulator answers");
    assert_eq!(control.status(), 200);
    let failed = d.get(&format!("{brands}/{failing}")).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    d.get(brands).await;
    let page = d.get(&format!("{brands}?PageSize=1")).await;
    let next = page["meta"]["next_page_url"]
        .as_str()
        .expect("a second page of brands")
        .to_owned();
    d.get(&next).await;
    let resubmitted = d
        .expect(202, Method::POST, &format!("{brands}/{failing}"), &[])
        .await;
    assert_eq!(resubmitted["status"], "PENDING", "{resubmitted}");
    let form = brand_form("SOLE_PROPRIETOR");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sole = d.create(brands, &form).await;
    let otp = d
        .expect(201, Method::POST, &format!("{brands}/{sole}/SmsOtp"), &[])
        .await;
    assert_eq!(otp["brand_registration_sid"], sole.as_str(), "{otp}");
    let mut form = brand_form("LOW_VOLUME_STANDARD");
    form.push(("SkipAutomaticSecVet", String::from("true")));
    form.push(("Mock", String::from("true")));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    d.create(brands, &form).await;

    // Vettings of the approved brand.
    let vettings = format!("{brands}/{brand}/Vettings");
    let vetting = d
        .expect(
            201,
            Method::POST,
            &vettings,
            &[
                ("VettingProvider", "campaign-verify"),
                (
                    "VettingId",
                    "cv|1.0|tcr|10dlc|9975c339-d46f-49b7-a399-EXAMPLETOKEN",
                ),
            ],
        )
        .await;
    let vetting_sid = vetting["brand_vetting_sid"].as_str().unwrap().to_owned();
    d.get(&vettings).await;
    d.get(&format!("{vettings}?VettingProvider=campaign-verify"))
        .await;
    d.get(&format!("{vettings}/{vetting_sid}")).await;

    // A Messaging Service with phone numbers.
    let service = d
        .create(
            "/v1/Services",
            &[
                ("FriendlyName", "Acme notifications"),
                ("InboundRequestUrl", "https://acme.example.com/inbound"),
                ("InboundMethod", "POST"),
                ("FallbackUrl", "https://acme.example.com/fallback"),
                ("FallbackMethod", "GET"),
                ("StatusCallback", "https://acme.example.com/status"),
                ("StickySender", "true"),
                ("MmsConverter", "false"),
                ("SmartEncoding", "true"),
                ("ScanMessageContent", "inherit"),
                ("FallbackToLongCode", "false"),
                ("AreaCodeGeomatch", "true"),
                ("ValidityPeriod", "600"),
                ("SynchronousValidation", "true"),
                ("Usecase", "marketing"),
                ("UseInboundWebhookOnNumber", "true"),
            ],
        )
        .await;
    let service_path = format!("/v1/Services/{service}");
    d.get(&service_path).await;
    d.update(
        &service_path,
        &[
            ("FriendlyName", "Acme marketing"),
            ("InboundRequestUrl", ""),
        ],
    )
    .await;
    d.get("/v1/Services").await;
    let numbers = format!("{service_path}/PhoneNumbers");
    for phone in &phones[..2] {
        d.create(&numbers, &[("PhoneNumberSid", phone)]).await;
    }
    d.get(&numbers).await;
    let page = d.get(&format!("{numbers}?PageSize=1")).await;
    let next = page["meta"]["next_page_url"]
        .as_str()
        .expect("a second page of numbers")
        .to_owned();
    d.get(&next).await;
    d.get(&format!("{numbers}/{}", phones[0])).await;
    d.delete(&format!("{numbers}/{}", phones[1])).await;
    d.expect(
        409,
        Method::POST,
        &numbers,
        &[("PhoneNumberSid", &phones[0])],
    )
    .await;

    // The campaign: use cases, created, verified, updated; a failed one on a scratch service.
    let usa2p = format!("{service_path}/Compliance/Usa2p");
    d.get(&format!("{usa2p}/Usecases")).await;
    d.get(&format!("{usa2p}/Usecases?BrandRegistrationSid={brand}"))
        .await;
    d.get("/v1/Services/Usecases").await;
    let campaign = d
        .expect(
            201,
            Method::POST,
            &usa2p,
            &campaign_form(&brand, "MARKETING"),
        )
        .await;
    assert_eq!(campaign["campaign_status"], "IN_PROGRESS", "{campaign}");
    let campaign = campaign["sid"].as_str().unwrap().to_owned();
    emulator
        .decide_campaign(&campaign, Decision::Approve)
        .await
        .expect("in progress");
    d.get(&usa2p).await;
    d.get(&format!("{usa2p}/{campaign}")).await;
    d.get(&service_path).await;
    d.update(
        &format!("{usa2p}/{campaign}"),
        &[
            ("HasEmbeddedLinks", "false"),
            ("HasEmbeddedPhone", "true"),
            ("MessageSamples", "EXPRESS: Denim Days Event is ON"),
            (
                "MessageSamples",
                "Your order has shipped: track it on our site.",
            ),
            (
                "MessageFlow",
                "End users opt-in by texting START to our number or on our website form.",
            ),
            (
                "Description",
                "Send marketing messages about sales to opted in customers.",
            ),
            ("AgeGated", "false"),
            ("DirectLending", "false"),
        ],
    )
    .await;
    d.expect(
        400,
        Method::POST,
        &usa2p,
        &campaign_form(&brand, "MARKETING"),
    )
    .await;
    let scratch = d
        .create("/v1/Services", &[("FriendlyName", "Scratch service")])
        .await;
    let scratch_usa2p = format!("/v1/Services/{scratch}/Compliance/Usa2p");
    let failed_campaign = d
        .create(&scratch_usa2p, &campaign_form(&brand, "2FA"))
        .await;
    emulator
        .decide_campaign(
            &failed_campaign,
            Decision::Reject {
                reason: String::from("Opt-in flow unclear"),
            },
        )
        .await
        .expect("in progress");
    d.get(&format!("{scratch_usa2p}/{failed_campaign}")).await;
    d.delete(&format!("{scratch_usa2p}/{failed_campaign}"))
        .await;
    d.create(
        &numbers.replace(&service, &scratch),
        &[("PhoneNumberSid", &phones[2])],
    )
    .await;
    d.delete(&format!("/v1/Services/{scratch}")).await;

    // A campaign registered elsewhere.
    let external_service = d
        .create("/v1/Services", &[("FriendlyName", "External campaign")])
        .await;
    d.expect(
        201,
        Method::POST,
        "/v1/Services/PreregisteredUsa2p",
        &[
            ("CampaignId", "CX1234A"),
            ("MessagingServiceSid", &external_service),
            ("CnpMigration", "false"),
        ],
    )
    .await;
    d.get(&format!("/v1/Services/{external_service}/Compliance/Usa2p"))
        .await;

    // Error answers.
    d.expect(
        400,
        Method::POST,
        brands,
        &[("CustomerProfileBundleSid", profile)],
    )
    .await;
    d.expect(400, Method::POST, &format!("{brands}/{brand}"), &[])
        .await;
    d.expect(
        404,
        Method::GET,
        "/v1/a2p/BrandRegistrations/BN00000000000000000000000000000000",
        &[],
    )
    .await;
    d.expect(
        404,
        Method::GET,
        "/v1/Services/MG00000000000000000000000000000000",
        &[],
    )
    .await;
    d.expect(405, Method::DELETE, brands, &[]).await;
}

/// Checks one recorded exchange; returns its label and failures.
fn check_exchange(spec: &Spec, error_schema: &Value, ex: &Exchange) -> (String, Vec<Failure>) {
    let mut failures = Vec::new();
    let operation = spec.operation(&ex.method, &ex.path);
    let label = match &operation {
        Some(op) => format!("{} {}", op.id, ex.status),
        None => format!(
            "{} {} {} (no spec operation)",
            ex.method, ex.path, ex.status
        ),
    };
    if ex.body.is_some()
        && !ex
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json"))
    {
        fail(
            &mut failures,
            "$",
            format!(
                "Content-Type is {:?}, not application/json",
                ex.content_type
            ),
        );
    }
    if ex.status >= 400 {
        // The spec declares no error responses: Twilio's error body.
        match &ex.body {
            Some(body) => {
                failures.extend(Validator::new(&Value::Null).check(error_schema, body));
                if body["status"] != ex.status {
                    fail(
                        &mut failures,
                        "$.status",
                        format!(
                            "{} differs from the HTTP status {}",
                            body["status"], ex.status
                        ),
                    );
                }
                let code = body["code"].to_string();
                if !body["more_info"]
                    .as_str()
                    .is_some_and(|m| m.ends_with(&format!("/{code}")))
                {
                    fail(&mut failures, "$.more_info", "does not end with the code");
                }
            }
            None => fail(&mut failures, "$", "an error answer without a body"),
        }
        return (label, failures);
    }
    let Some(op) = operation else {
        fail(
            &mut failures,
            "$",
            "the spec has no operation for this method and path",
        );
        return (label, failures);
    };
    let Some(response) = op.responses.get(ex.status.to_string()) else {
        let declared: Vec<&String> = op
            .responses
            .as_object()
            .map(|r| r.keys().collect())
            .unwrap_or_default();
        fail(
            &mut failures,
            "$",
            format!(
                "status {} is not declared (the spec declares {declared:?})",
                ex.status
            ),
        );
        return (label, failures);
    };
    match (
        response.pointer("/content/application~1json/schema"),
        &ex.body,
    ) {
        (None, None) => {}
        (None, Some(_)) => fail(&mut failures, "$", "a body where the spec declares none"),
        (Some(_), None) => fail(&mut failures, "$", "no body where the spec declares one"),
        (Some(schema), Some(body)) => {
            failures.extend(Validator::new(op.doc).check(schema, body));
        }
    }
    (label, failures)
}

/// The operations the brief requires to be exercised (with a 2xx answer).
const REQUIRED_OPERATIONS: [&str; 41] = [
    "CreateCustomerProfile",
    "ListCustomerProfile",
    "FetchCustomerProfile",
    "UpdateCustomerProfile",
    "DeleteCustomerProfile",
    "CreateCustomerProfileEntityAssignment",
    "ListCustomerProfileEntityAssignment",
    "FetchCustomerProfileEntityAssignment",
    "DeleteCustomerProfileEntityAssignment",
    "CreateCustomerProfileChannelEndpointAssignment",
    "ListCustomerProfileChannelEndpointAssignment",
    "FetchCustomerProfileChannelEndpointAssignment",
    "DeleteCustomerProfileChannelEndpointAssignment",
    "CreateCustomerProfileEvaluation",
    "ListCustomerProfileEvaluation",
    "FetchCustomerProfileEvaluation",
    "CreateEndUser",
    "ListEndUser",
    "FetchEndUser",
    "UpdateEndUser",
    "DeleteEndUser",
    "CreateSupportingDocument",
    "ListSupportingDocument",
    "FetchSupportingDocument",
    "UpdateSupportingDocument",
    "DeleteSupportingDocument",
    "ListPolicies",
    "FetchPolicies",
    "ListEndUserType",
    "FetchEndUserType",
    "ListSupportingDocumentType",
    "FetchSupportingDocumentType",
    "CreateAddress",
    "ListAddress",
    "FetchAddress",
    "UpdateAddress",
    "DeleteAddress",
    "ListIncomingPhoneNumber",
    "FetchIncomingPhoneNumber",
    "CreateTrustProduct",
    "FetchTrustProduct",
];

/// The Messaging v1 operations the emulator serves, each exercised with a 2xx answer.
const MESSAGING_OPERATIONS: [&str; 25] = [
    "CreateBrandRegistrations",
    "FetchBrandRegistrations",
    "ListBrandRegistrations",
    "UpdateBrandRegistrations",
    "CreateBrandRegistrationOtp",
    "CreateBrandVetting",
    "FetchBrandVetting",
    "ListBrandVetting",
    "CreateService",
    "FetchService",
    "ListService",
    "UpdateService",
    "DeleteService",
    "CreatePhoneNumber",
    "FetchPhoneNumber",
    "ListPhoneNumber",
    "DeletePhoneNumber",
    "CreateUsAppToPerson",
    "FetchUsAppToPerson",
    "ListUsAppToPerson",
    "UpdateUsAppToPerson",
    "DeleteUsAppToPerson",
    "FetchUsAppToPersonUsecase",
    "FetchUsecase",
    "CreateExternalCampaign",
];

#[tokio::test]
async fn every_emulator_response_validates_against_the_pinned_spec() {
    let spec = Spec::load();
    let error_schema: Value = serde_json::from_str(ERROR_SCHEMA).unwrap();
    let emulator = start(EmulatorConfig::default().with_seed(11))
        .await
        .unwrap();
    let mut driver = Driver {
        http: reqwest::Client::new(),
        base: emulator.base_url(),
        account: emulator.account_sid().to_owned(),
        password: emulator.auth_token().to_owned(),
        log: Vec::new(),
    };
    let profile = drive(&mut driver, &emulator).await;
    drive_messaging(&mut driver, &emulator, &profile).await;
    drive_after_submission(&mut driver, &emulator).await;
    emulator.shutdown().await;

    let mut failures = Vec::new();
    let mut covered: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    let mut error_bodies = 0;
    for ex in &driver.log {
        let (label, found) = check_exchange(&spec, &error_schema, ex);
        if let Some(op) = spec.operation(&ex.method, &ex.path) {
            covered.entry(op.id).or_default().insert(ex.status);
        }
        if ex.status >= 400 {
            error_bodies += 1;
        }
        for failure in found {
            failures.push(format!(
                "{label} ({} {}): {}: {}",
                ex.method, ex.path, failure.path, failure.reason
            ));
        }
    }
    println!(
        "emulator responses: {} checked against the spec, {} failures ({} operations, {} error bodies)",
        driver.log.len(),
        failures.len(),
        covered.len(),
        error_bodies
    );
    for failure in &failures {
        println!("  {failure}");
    }
    let missing: Vec<&str> = REQUIRED_OPERATIONS
        .iter()
        .copied()
        .filter(|id| {
            !covered
                .get(*id)
                .is_some_and(|statuses| statuses.iter().any(|s| (200..300).contains(s)))
        })
        .collect();
    let missing_messaging: Vec<&str> = MESSAGING_OPERATIONS
        .iter()
        .copied()
        .filter(|id| {
            !covered
                .get(*id)
                .is_some_and(|statuses| statuses.iter().any(|s| (200..300).contains(s)))
        })
        .collect();
    assert!(missing.is_empty(), "operations not exercised: {missing:?}");
    assert!(
        missing_messaging.is_empty(),
        "Messaging operations not exercised: {missing_messaging:?}"
    );
    let error_statuses: BTreeSet<u16> = driver
        .log
        .iter()
        .map(|ex| ex.status)
        .filter(|s| *s >= 400)
        .collect();
    assert_eq!(
        error_statuses,
        BTreeSet::from([400, 401, 404, 405, 409, 429, 500, 503])
    );
    assert!(
        failures.is_empty(),
        "{} responses do not match the spec:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// =========================================================================================================
// The validator can fail
// =========================================================================================================

fn reasons(failures: &[Failure]) -> Vec<String> {
    failures
        .iter()
        .map(|f| format!("{}: {}", f.path, f.reason))
        .collect()
}

/// Asserts one failure at `path` whose reason contains `needle`.
fn assert_flags(failures: &[Failure], path: &str, needle: &str) {
    assert!(
        failures
            .iter()
            .any(|f| f.path == path && f.reason.contains(needle)),
        "expected a failure at {path} containing {needle:?}, got {:?}",
        reasons(failures)
    );
}

#[test]
fn the_spec_example_of_a_customer_profile_validates() {
    let spec = Spec::load();
    let (doc, schema) = spec.schema("trusthub.v1.customer_profile");
    let example = spec.example("CreateCustomerProfile", "201");
    let failures = Validator::new(doc).check(schema, example);
    assert!(failures.is_empty(), "{:?}", reasons(&failures));
}

#[test]
fn wrong_customer_profile_bodies_are_reported_with_path_and_reason() {
    let spec = Spec::load();
    let (doc, schema) = spec.schema("trusthub.v1.customer_profile");
    let validator = Validator::new(doc);
    let good = spec.example("CreateCustomerProfile", "201").clone();
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "sid",
            json!("XX0123456789abcdef0123456789abcdef"),
            "$.sid",
            "does not match ^BU",
        ),
        ("sid", json!("BU0123"), "$.sid", "fewer than minLength 34"),
        (
            "account_sid",
            json!("AC0123456789abcdef0123456789abcdef00"),
            "$.account_sid",
            "more than maxLength 34",
        ),
        (
            "policy_sid",
            json!("RN0123456789abcdef0123456789abcdeg"),
            "$.policy_sid",
            "does not match",
        ),
        ("status", json!("approved"), "$.status", "is not one of"),
        (
            "status",
            Value::Null,
            "$.status",
            "null where the schema is not nullable",
        ),
        (
            "date_created",
            json!("2019-07-30 22:29:24"),
            "$.date_created",
            "RFC 3339",
        ),
        (
            "date_updated",
            json!("Tue, 30 Jul 2019 22:29:24 +0000"),
            "$.date_updated",
            "RFC 3339",
        ),
        (
            "url",
            json!("/v1/CustomerProfiles/BU0123456789abcdef0123456789abcdef"),
            "$.url",
            "absolute",
        ),
        (
            "status_callback",
            json!("not-a-url"),
            "$.status_callback",
            "not an absolute URI",
        ),
        (
            "friendly_name",
            json!(5),
            "$.friendly_name",
            "expected \"string\", found integer",
        ),
        (
            "errors",
            json!("none"),
            "$.errors",
            "expected \"array\", found string",
        ),
        (
            "links",
            json!({"customer_profiles_evaluations": "relative/path"}),
            "$.links.customer_profiles_evaluations",
            "not an absolute URI",
        ),
        (
            "links",
            json!({"customer_profiles_evaluations": 3}),
            "$.links.customer_profiles_evaluations",
            "not a string",
        ),
        (
            "surprise",
            json!("extra"),
            "$.surprise",
            "not in the schema",
        ),
    ];
    for (key, value, path, needle) in cases {
        let mut body = good.clone();
        body[key] = value;
        let failures = validator.check(schema, &body);
        assert_flags(&failures, path, needle);
        // Only the broken value is reported (a too-short SID breaks both its length and its pattern).
        assert!(
            failures.iter().all(|f| f.path.starts_with(path)),
            "{key}: {:?}",
            reasons(&failures)
        );
    }
    // Nullable fields accept null; an untyped `{}` (errors' items) accepts anything.
    let mut body = good;
    body["valid_until"] = Value::Null;
    body["errors"] = json!([{"code": 1}, "text", 3, null]);
    assert!(validator.check(schema, &body).is_empty());
}

#[test]
fn list_envelopes_and_2010_resources_are_checked() {
    let spec = Spec::load();
    let list = spec
        .operation(&Method::GET, "/v1/EndUsers")
        .expect("ListEndUser");
    assert_eq!(list.id, "ListEndUser");
    let schema = list
        .responses
        .pointer("/200/content/application~1json/schema")
        .unwrap();
    let validator = Validator::new(list.doc);
    let mut envelope = spec.example("ListEndUser", "200").clone();
    assert!(validator.check(schema, &envelope).is_empty());
    envelope["meta"]["url"] = json!("/v1/EndUsers?PageSize=50&Page=0");
    envelope["meta"]["page"] = json!(0.5);
    envelope["results"] = json!([{"sid": "IT0123456789abcdef0123456789abcdef", "nickname": "x"}]);
    let failures = validator.check(schema, &envelope);
    assert_flags(&failures, "$.meta.url", "absolute");
    assert_flags(
        &failures,
        "$.meta.page",
        "expected \"integer\", found number",
    );
    assert_flags(&failures, "$.results[0].nickname", "not in the schema");

    // 2010: relative `*_uri` links pass, RFC 2822 dates are required.
    let addresses = spec
        .operation(
            &Method::GET,
            "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Addresses.json",
        )
        .expect("ListAddress");
    assert_eq!(addresses.id, "ListAddress");
    let schema = addresses
        .responses
        .pointer("/200/content/application~1json/schema")
        .unwrap();
    let validator = Validator::new(addresses.doc);
    let mut envelope = spec.example("ListAddress", "200").clone();
    assert!(validator.check(schema, &envelope).is_empty());
    envelope["addresses"][0]["date_created"] = json!("2015-08-18T17:07:30Z");
    envelope["addresses"][0]["iso_country"] = json!("usa");
    envelope["next_page_uri"] = json!("relative/path");
    let failures = validator.check(schema, &envelope);
    assert_flags(&failures, "$.addresses[0].date_created", "RFC 2822");
    assert_flags(&failures, "$.addresses[0].iso_country", "ISO 3166-1");
    assert_flags(&failures, "$.next_page_uri", "not an absolute URI");
    assert_eq!(failures.len(), 3, "{:?}", reasons(&failures));
}

#[test]
fn the_spec_own_phone_number_example_breaks_its_schema() {
    // Twilio's example shows keys and values its schema refuses; the emulator follows the schema.
    let spec = Spec::load();
    let (doc, schema) = spec.schema("api.v2010.account.incoming_phone_number");
    let example = spec.example("FetchIncomingPhoneNumber", "200");
    let failures = Validator::new(doc).check(schema, example);
    assert_flags(&failures, "$.subresource_uris", "not in the schema");
    assert_flags(&failures, "$.sms_application_sid", "does not match ^AP");
    assert_flags(&failures, "$.sms_url", "not an absolute URI");
    let mut fixed = example.clone();
    let object = fixed.as_object_mut().unwrap();
    object.remove("subresource_uris");
    for key in [
        "sms_application_sid",
        "voice_application_sid",
        "sms_url",
        "sms_fallback_url",
        "status_callback",
    ] {
        object.insert(key.to_owned(), Value::Null);
    }
    let failures = Validator::new(doc).check(schema, &fixed);
    assert!(failures.is_empty(), "{:?}", reasons(&failures));
    fixed["phone_number"] = json!("8089255327");
    fixed["capabilities"]["sms"] = json!("yes");
    fixed["voice_method"] = json!("FETCH");
    let failures = Validator::new(doc).check(schema, &fixed);
    assert_flags(&failures, "$.phone_number", "E.164");
    assert_flags(&failures, "$.capabilities.sms", "expected \"boolean\"");
    assert_flags(&failures, "$.voice_method", "is not one of");
}

#[test]
fn messaging_bodies_are_checked_against_the_messaging_spec() {
    let spec = Spec::load();
    let (doc, schema) = spec.schema("messaging.v1.brand_registrations");
    let example = spec.example("CreateBrandRegistrations", "201");
    let failures = Validator::new(doc).check(schema, example);
    assert!(failures.is_empty(), "{:?}", reasons(&failures));
    let mut wrong = example.clone();
    wrong["identity_status"] = Value::Null;
    wrong["brand_feedback"] = json!(["TAX"]);
    wrong["status"] = json!("REGISTERED");
    wrong["code"] = json!(30794);
    let failures = Validator::new(doc).check(schema, &wrong);
    assert_flags(&failures, "$.identity_status", "not nullable");
    assert_flags(&failures, "$.brand_feedback[0]", "is not one of");
    assert_flags(&failures, "$.status", "is not one of");
    assert_flags(&failures, "$.code", "not in the schema");

    // Twilio's Service example carries `sending_windows`, which its schema does not list; the emulator
    // follows the schema. `validity_period` has a `default`, an annotation.
    let (doc, schema) = spec.schema("messaging.v1.service");
    let example = spec.example("CreateService", "201");
    let failures = Validator::new(doc).check(schema, example);
    assert_eq!(failures.len(), 1, "{:?}", reasons(&failures));
    assert_flags(&failures, "$.sending_windows", "not in the schema");

    // The vetting example's SID is shorter than its own pattern allows.
    let (doc, schema) = spec.schema("messaging.v1.brand_registrations.brand_vetting");
    let example = spec.example("CreateBrandVetting", "201");
    let failures = Validator::new(doc).check(schema, example);
    assert_flags(&failures, "$.brand_vetting_sid", "fewer than minLength 34");

    // A campaign list is the `meta` envelope keyed `compliance`.
    let op = spec
        .operation(
            &Method::GET,
            "/v1/Services/MG00000000000000000000000000000000/Compliance/Usa2p",
        )
        .expect("ListUsAppToPerson");
    assert_eq!(op.id, "ListUsAppToPerson");
    let list_schema = &op.responses["200"]["content"]["application/json"]["schema"];
    let campaign = spec.example("CreateUsAppToPerson", "201").clone();
    let body = json!({"results": [campaign], "meta": {"key": "results"}});
    let failures = Validator::new(op.doc).check(list_schema, &body);
    assert_flags(&failures, "$.results", "not in the schema");
    let op = spec
        .operation(
            &Method::GET,
            "/v1/Services/MG00000000000000000000000000000000/Compliance/Usa2p/Usecases",
        )
        .expect("FetchUsAppToPersonUsecase");
    assert_eq!(op.id, "FetchUsAppToPersonUsecase", "a literal segment wins");
    let op = spec
        .operation(&Method::GET, "/v1/Services/Usecases")
        .expect("FetchUsecase");
    assert_eq!(op.id, "FetchUsecase");
}

#[test]
fn error_bodies_required_keys_and_unsupported_keywords_are_failures() {
    let error_schema: Value = serde_json::from_str(ERROR_SCHEMA).unwrap();
    let no_document = Value::Null;
    let validator = Validator::new(&no_document);
    let good = json!({
        "code": 20404,
        "message": "The requested resource /v1/X was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    });
    assert!(validator.check(&error_schema, &good).is_empty());
    let failures = validator.check(&error_schema, &json!({"message": "", "status": "404"}));
    assert_flags(&failures, "$", "required property 'code' is missing");
    assert_flags(&failures, "$", "required property 'more_info' is missing");
    assert_flags(&failures, "$.message", "fewer than minLength 1");
    assert_flags(&failures, "$.status", "expected \"integer\", found string");

    let odd = json!({"oneOf": [{"type": "string"}], "format": "custom"});
    let failures = validator.check(&odd, &json!("x"));
    assert_flags(&failures, "$", "unsupported schema keyword 'oneOf'");
    let failures = validator.check(&json!({"type": "string", "format": "custom"}), &json!("x"));
    assert_flags(&failures, "$", "unknown string format 'custom'");
    let failures = validator.check(&json!({"$ref": "#/components/schemas/none"}), &json!(1));
    assert_flags(&failures, "$", "unresolvable $ref");
    // Untyped schemas accept anything.
    assert!(validator
        .check(&json!({}), &json!({"a": [1, null]}))
        .is_empty());
    assert!(validator
        .check(
            &json!({"description": "anything", "nullable": true}),
            &Value::Null
        )
        .is_empty());
}

#[test]
fn patterns_and_path_templates() {
    let sid = Pattern::parse("^BU[0-9a-fA-F]{32}$").unwrap();
    assert!(sid.matches("BU0123456789abcdef0123456789ABCDEF"));
    assert!(!sid.matches("BU0123456789abcdef0123456789ABCDEF0"));
    assert!(!sid.matches("BV0123456789abcdef0123456789ABCDEF"));
    assert!(!sid.matches("BU0123456789abcdef0123456789ABCDEg"));
    let any = Pattern::parse("^[a-zA-Z]{2}[0-9a-fA-F]{32}$").unwrap();
    assert!(any.matches("PN0123456789abcdef0123456789abcdef"));
    assert!(!any.matches("P10123456789abcdef0123456789abcdef"));
    let open = Pattern::parse("a[0-9]+").unwrap();
    assert!(open.matches("xxa12yy"));
    assert!(!open.matches("xxayy"));
    assert!(Pattern::parse("^(a|b)$").is_err());
    assert!(Pattern::parse("^\\d+$").is_err());

    assert_eq!(
        template_match(
            "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json",
            "/2010-04-01/Accounts/AC1/Addresses/AD1.json"
        ),
        Some(4)
    );
    assert_eq!(
        template_match(
            "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json",
            "/2010-04-01/Accounts/AC1/Addresses/AD1"
        ),
        None
    );
    assert_eq!(template_match("/v1/Policies/{Sid}", "/v1/Policies"), None);
}
