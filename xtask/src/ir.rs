//! Lowering of an OpenAPI document into what the emitter needs: operations grouped into
//! resources, parameters, and the named types they use. Everything the emitter cannot express is
//! reported here as an error naming the schema path, never as a panic.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};
use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, OpenAPI, Operation, Parameter, ParameterSchemaOrContent, PathItem,
    ReferenceOr, Schema, SchemaKind, StatusCode, StringFormat, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use crate::overlay::Overlay;
use crate::pin::SpecPin;
use crate::{fail, Result};

/// One generated module: the operations kept from one spec file.
#[derive(Debug)]
pub struct Api {
    pub module: String,
    pub title: String,
    pub groups: Vec<Group>,
    pub ops: Vec<Op>,
    /// Named types, by Rust name (sorted, so output is deterministic).
    pub types: BTreeMap<String, TypeDef>,
}

/// A resource: the operations of one tag, reached from the client or from a parent resource.
#[derive(Debug)]
pub struct Group {
    pub type_name: String,
    pub accessor: String,
    pub parent: Option<usize>,
    /// Path parameters bound when the parent hands out this resource.
    pub bound: Vec<Param>,
    pub collection_path: String,
    pub ops: Vec<usize>,
}

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    /// `GET`, `POST`, `DELETE`.
    pub fn word(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// What an operation does, from the first word of its `operationId`; names its method on the
/// resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Create,
    List,
    Fetch,
    Update,
    Delete,
}

impl Verb {
    const ALL: [Verb; 5] = [
        Verb::Create,
        Verb::List,
        Verb::Fetch,
        Verb::Update,
        Verb::Delete,
    ];

    /// The verb an `operationId` starts with (`CreateEndUser` -> `Create`).
    pub fn of(operation_id: &str) -> Option<Verb> {
        Verb::ALL
            .into_iter()
            .find(|verb| operation_id.starts_with(verb.word()))
    }

    /// The word in the `operationId`.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Create => "Create",
            Verb::List => "List",
            Verb::Fetch => "Fetch",
            Verb::Update => "Update",
            Verb::Delete => "Delete",
        }
    }

    /// The method on the resource: `create`, `list`, ...
    pub fn method_name(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::List => "list",
            Verb::Fetch => "fetch",
            Verb::Update => "update",
            Verb::Delete => "delete",
        }
    }
}

/// What a successful response holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    Model(String),
    Empty,
    Page { page: String, item: String },
}

/// One operation.
#[derive(Debug)]
pub struct Op {
    pub id: String,
    pub verb: Verb,
    pub method: Method,
    pub path: String,
    pub base_url: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    pub body_params: Vec<Param>,
    pub response: Resp,
    pub status: u16,
    pub group: usize,
    /// Response examples: (status, name, value).
    pub response_examples: Vec<(u16, String, Value)>,
    /// Request body examples: (name, value).
    pub request_examples: Vec<(String, Value)>,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Body,
}

/// One request parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub wire: String,
    pub rust: String,
    pub ty: Ty,
    pub required: bool,
    pub doc: Option<String>,
    pub location: Location,
    /// Filled from the client's account unless set (2010 `{AccountSid}`).
    pub ambient: bool,
}

/// Date formats Twilio uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    Iso8601,
    Rfc2822,
}

/// The type of a value, as the emitter sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// A string.
    Str {
        min_len: Option<usize>,
        max_len: Option<usize>,
    },
    /// A SID: `kind` is its type in `trusthub_runtime::sid` (chosen by the overlay's `sid_kinds`),
    /// `prefix` the pattern's two letters (empty for any two letters).
    Sid {
        kind: String,
        prefix: String,
    },
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Num,
    Bool,
    Date(DateFormat),
    Array(Box<Ty>),
    /// Untyped (`{}`): any JSON value.
    Json,
    /// `format: uri-map`: names to URLs.
    UriMap,
    Named(String),
}

/// A named type to emit.
#[derive(Debug, Clone)]
pub enum TypeDef {
    Struct {
        doc: Option<String>,
        fields: Vec<Field>,
        /// Keep unknown keys (`additionalProperties: true`).
        extra: bool,
    },
    Enum {
        doc: Option<String>,
        values: Vec<String>,
    },
    /// A list response: items plus Trust Hub `meta` or the 2010 flat envelope.
    Page {
        doc: Option<String>,
        items_field: String,
        item: String,
        /// `None`: Trust Hub `meta` envelope. `Some(fields)`: 2010 flat envelope fields.
        flat: Option<Vec<Field>>,
    },
}

/// A field of a model.
#[derive(Debug, Clone)]
pub struct Field {
    pub wire: String,
    pub rust: String,
    pub ty: Ty,
    pub doc: Option<String>,
    pub redact: bool,
}

/// A Rust identifier for a wire name (keywords get a trailing underscore).
pub fn rust_ident(wire: &str) -> String {
    let snake = wire.to_snake_case();
    match snake.as_str() {
        "type" | "match" | "ref" | "move" | "loop" | "self" | "super" | "crate" | "mod" | "use"
        | "where" | "fn" | "impl" | "trait" | "struct" | "enum" | "async" | "await" | "dyn"
        | "static" | "const" | "box" | "in" | "for" | "if" | "else" | "let" | "mut" | "pub"
        | "return" | "true" | "false" | "while" | "break" | "continue" | "extern" | "unsafe"
        | "abstract" | "final" | "override" | "priv" | "try" | "typeof" | "virtual" | "yield"
        | "become" | "do" | "macro" | "unsized" | "gen" => format!("{snake}_"),
        _ => snake,
    }
}

/// The Rust variant name of an enum value.
pub fn variant_ident(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let lower = if cleaned.chars().any(|c| c.is_ascii_lowercase()) {
        cleaned
    } else {
        cleaned.to_lowercase()
    };
    let name = lower.to_upper_camel_case();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{name}")
    } else {
        name
    }
}

struct Lowerer<'a> {
    module: &'a str,
    doc: &'a OpenAPI,
    overlay: &'a Overlay,
    types: BTreeMap<String, TypeDef>,
    /// Upstream schema name of each emitted named type (for duplicates and redaction).
    origin: BTreeMap<String, String>,
    in_progress: BTreeSet<String>,
}

const SCHEMA_REF: &str = "#/components/schemas/";

impl<'a> Lowerer<'a> {
    fn schema_by_ref(&self, reference: &str, at: &str) -> Result<(&'a str, &'a Schema)> {
        let name = reference
            .strip_prefix(SCHEMA_REF)
            .ok_or_else(|| fail!("{at}: unsupported $ref {reference} (only {SCHEMA_REF}...)"))?;
        let components =
            self.doc.components.as_ref().ok_or_else(|| {
                fail!("{at}: $ref {reference} but the document has no components")
            })?;
        let (key, schema) = components
            .schemas
            .get_key_value(name)
            .ok_or_else(|| fail!("{at}: $ref {reference} names no schema"))?;
        match schema {
            ReferenceOr::Item(s) => Ok((key.as_str(), s)),
            ReferenceOr::Reference { reference } => Err(fail!(
                "{at}: schema {name} is itself a $ref to {reference}; unsupported"
            )),
        }
    }

    /// The Rust name of a component schema.
    fn type_name(&self, schema_name: &str) -> String {
        if let Some(name) = self.overlay.rename(self.module, schema_name) {
            return name.to_owned();
        }
        let last = schema_name.rsplit('.').next().unwrap_or(schema_name);
        last.replace("_enum_", "_").to_upper_camel_case()
    }

    fn register(&mut self, name: &str, origin: &str, def: TypeDef, at: &str) -> Result<()> {
        if let Some(previous) = self.origin.get(name) {
            if previous != origin {
                return Err(fail!(
                    "{at}: two schemas ({previous} and {origin}) both map to the Rust type {name}; \
                     add a rename to spec/overlay.json"
                ));
            }
            return Ok(());
        }
        self.origin.insert(name.to_owned(), origin.to_owned());
        self.types.insert(name.to_owned(), def);
        Ok(())
    }

    fn lower_ref_or(
        &mut self,
        schema: &ReferenceOr<Box<Schema>>,
        context: &str,
        at: &str,
    ) -> Result<Ty> {
        match schema {
            ReferenceOr::Reference { reference } => self.lower_named(reference, at),
            ReferenceOr::Item(s) => self.lower(s, context, at),
        }
    }

    fn lower_named(&mut self, reference: &str, at: &str) -> Result<Ty> {
        let (schema_name, schema) = self.schema_by_ref(reference, at)?;
        let name = self.type_name(schema_name);
        if self.types.contains_key(&name) || self.in_progress.contains(&name) {
            if let Some(previous) = self.origin.get(&name)
                && previous != schema_name
            {
                return Err(fail!(
                    "{at}: {previous} and {schema_name} both map to {name}; add a rename"
                ));
            }
            return Ok(Ty::Named(name));
        }
        let at = format!("#/components/schemas/{schema_name}");
        self.in_progress.insert(name.clone());
        let def = self.named_def(schema, &name, schema_name, &at)?;
        self.in_progress.remove(&name);
        self.register(&name, schema_name, def, &at)?;
        Ok(Ty::Named(name))
    }

    fn named_def(
        &mut self,
        schema: &Schema,
        name: &str,
        origin: &str,
        at: &str,
    ) -> Result<TypeDef> {
        let doc = schema.schema_data.description.clone();
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => Ok(TypeDef::Enum {
                doc,
                values: enum_values(&s.enumeration, at)?,
            }),
            SchemaKind::Type(Type::Object(o)) => {
                let extra = match &o.additional_properties {
                    None | Some(AdditionalProperties::Any(false)) => false,
                    Some(AdditionalProperties::Any(true)) => true,
                    Some(AdditionalProperties::Schema(_)) => {
                        return Err(fail!(
                            "{at}: additionalProperties with a schema is unsupported"
                        ));
                    }
                };
                let fields = self.fields(&o.properties, name, origin, at)?;
                Ok(TypeDef::Struct { doc, fields, extra })
            }
            SchemaKind::Any(any) if !any.properties.is_empty() && any.one_of.is_empty() => {
                let fields = self.fields(&any.properties, name, origin, at)?;
                Ok(TypeDef::Struct {
                    doc,
                    fields,
                    extra: false,
                })
            }
            other => Err(fail!(
                "{at}: a named type must be an object or a string enum, found {}",
                kind_name(other)
            )),
        }
    }

    fn fields(
        &mut self,
        properties: &IndexMap<String, ReferenceOr<Box<Schema>>>,
        owner: &str,
        origin: &str,
        at: &str,
    ) -> Result<Vec<Field>> {
        let mut fields = Vec::new();
        for (wire, schema) in properties {
            let field_at = format!("{at}/properties/{wire}");
            let context = format!("{owner}{}", wire.to_upper_camel_case());
            let ty = self.lower_ref_or(schema, &context, &field_at)?;
            let (doc, pii) = match schema {
                ReferenceOr::Item(s) => (
                    s.schema_data.description.clone(),
                    s.schema_data
                        .extensions
                        .get("x-twilio")
                        .is_some_and(|x| x.get("pii").is_some()),
                ),
                ReferenceOr::Reference { .. } => (None, false),
            };
            let doc = doc.or_else(|| match &ty {
                Ty::Named(n) => match self.types.get(n) {
                    Some(TypeDef::Enum { doc, .. } | TypeDef::Struct { doc, .. }) => doc.clone(),
                    _ => None,
                },
                _ => None,
            });
            fields.push(Field {
                rust: rust_ident(wire),
                wire: wire.clone(),
                ty,
                doc,
                redact: pii || self.overlay.redact.covers(origin, wire),
            });
        }
        Ok(fields)
    }

    fn lower(&mut self, schema: &Schema, context: &str, at: &str) -> Result<Ty> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                if !s.enumeration.is_empty() {
                    let values = enum_values(&s.enumeration, at)?;
                    let http_method = matches!(&s.format, VariantOrUnknownOrEmpty::Unknown(f) if f == "http-method");
                    let name = if http_method {
                        "HttpMethod".to_owned()
                    } else {
                        context.to_owned()
                    };
                    let origin = if http_method {
                        "format: http-method"
                    } else {
                        at
                    };
                    let def = TypeDef::Enum {
                        doc: schema.schema_data.description.clone(),
                        values,
                    };
                    self.register(&name, origin, def, at)?;
                    return Ok(Ty::Named(name));
                }
                match &s.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => {
                        return Ok(Ty::Date(DateFormat::Iso8601));
                    }
                    VariantOrUnknownOrEmpty::Unknown(f) if f == "date-time-rfc-2822" => {
                        return Ok(Ty::Date(DateFormat::Rfc2822));
                    }
                    VariantOrUnknownOrEmpty::Item(other) => {
                        return Err(fail!("{at}: unsupported string format {other:?}"));
                    }
                    _ => {}
                }
                let Some(pattern) = &s.pattern else {
                    return Ok(Ty::Str {
                        min_len: s.min_length,
                        max_len: s.max_length,
                    });
                };
                let prefix = sid_prefix(pattern).ok_or_else(|| {
                    fail!("{at}: unsupported pattern {pattern} (only SID patterns are generated)")
                })?;
                let kind = self
                    .overlay
                    .sid_kinds
                    .kind(&prefix, context)
                    .ok_or_else(|| {
                        fail!(
                            "{at}: no SID kind for pattern {pattern} in context {context}; \
                         add a rule to `sid_kinds` in spec/overlay.json"
                        )
                    })?;
                Ok(Ty::Sid {
                    kind: kind.to_owned(),
                    prefix,
                })
            }
            SchemaKind::Type(Type::Integer(i)) => Ok(Ty::Int {
                min: i.minimum,
                max: i.maximum,
            }),
            SchemaKind::Type(Type::Number(_)) => Ok(Ty::Num),
            SchemaKind::Type(Type::Boolean(_)) => Ok(Ty::Bool),
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => Ok(Ty::Array(Box::new(self.lower_ref_or(
                    items,
                    &format!("{context}Item"),
                    &format!("{at}/items"),
                )?))),
                None => Ok(Ty::Array(Box::new(Ty::Json))),
            },
            SchemaKind::Type(Type::Object(o)) => {
                if let Some(AdditionalProperties::Schema(_)) = &o.additional_properties {
                    return Err(fail!(
                        "{at}: additionalProperties with a schema is unsupported"
                    ));
                }
                if o.properties.is_empty() {
                    return Ok(Ty::Json);
                }
                let def = self.named_def(schema, context, at, at)?;
                self.register(context, at, def, at)?;
                Ok(Ty::Named(context.to_owned()))
            }
            SchemaKind::Any(any) => {
                let empty = any.properties.is_empty()
                    && any.items.is_none()
                    && any.enumeration.is_empty()
                    && any.one_of.is_empty()
                    && any.all_of.is_empty()
                    && any.any_of.is_empty()
                    && any.not.is_none()
                    && any.pattern.is_none();
                match (any.typ.as_deref(), any.format.as_deref()) {
                    (Some("object"), Some("uri-map")) if empty => Ok(Ty::UriMap),
                    (None, None) if empty => Ok(Ty::Json),
                    (Some("object"), _) if !any.properties.is_empty() => {
                        let def = self.named_def(schema, context, at, at)?;
                        self.register(context, at, def, at)?;
                        Ok(Ty::Named(context.to_owned()))
                    }
                    (typ, format) => Err(fail!(
                        "{at}: unsupported schema (type {typ:?}, format {format:?})"
                    )),
                }
            }
            other => Err(fail!("{at}: unsupported construct {}", kind_name(other))),
        }
    }
}

fn kind_name(kind: &SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Type(Type::String(_)) => "string",
        SchemaKind::Type(Type::Number(_)) => "number",
        SchemaKind::Type(Type::Integer(_)) => "integer",
        SchemaKind::Type(Type::Boolean(_)) => "boolean",
        SchemaKind::Type(Type::Object(_)) => "object",
        SchemaKind::Type(Type::Array(_)) => "array",
        SchemaKind::OneOf { .. } => "oneOf",
        SchemaKind::AllOf { .. } => "allOf",
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::Not { .. } => "not",
        SchemaKind::Any(_) => "an untyped schema",
    }
}

fn enum_values(values: &[Option<String>], at: &str) -> Result<Vec<String>> {
    let values: Vec<String> = values
        .iter()
        .map(|v| {
            v.clone()
                .ok_or_else(|| fail!("{at}: null enum value unsupported"))
        })
        .collect::<Result<_>>()?;
    let mut seen = BTreeMap::new();
    for v in &values {
        if let Some(other) = seen.insert(variant_ident(v), v) {
            return Err(fail!(
                "{at}: enum values {other:?} and {v:?} map to the same variant {}",
                variant_ident(v)
            ));
        }
    }
    Ok(values)
}

/// `^BU[0-9a-fA-F]{32}$` -> `Some("BU")`; `^[a-zA-Z]{2}[0-9a-fA-F]{32}$` -> `Some("")`.
fn sid_prefix(pattern: &str) -> Option<String> {
    if pattern == "^[a-zA-Z]{2}[0-9a-fA-F]{32}$" {
        return Some(String::new());
    }
    let prefix = pattern
        .strip_prefix('^')?
        .strip_suffix("[0-9a-fA-F]{32}$")?;
    (prefix.len() == 2 && prefix.chars().all(|c| c.is_ascii_uppercase())).then(|| prefix.to_owned())
}

fn path_items(doc: &OpenAPI) -> Result<Vec<(&String, &PathItem)>> {
    doc.paths
        .paths
        .iter()
        .map(|(path, item)| match item {
            ReferenceOr::Item(i) => Ok((path, i)),
            ReferenceOr::Reference { reference } => Err(fail!(
                "#/paths/{path}: path item $ref {reference} is unsupported"
            )),
        })
        .collect()
}

fn literal_segments(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .collect()
}

/// The path with every `{Param}` replaced by `{}`.
fn normalized(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        out.push_str("{}");
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// The names of the `{Param}`s of a path, in order.
fn path_param_names(path: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        names.push(&rest[start + 1..start + end]);
        rest = &rest[start + end + 1..];
    }
    names
}

/// Lowers the kept operations of one (overlaid) spec.
pub fn lower(spec: &SpecPin, doc: &OpenAPI, overlay: &Overlay) -> Result<Api> {
    let mut lowerer = Lowerer {
        module: &spec.module,
        doc,
        overlay,
        types: BTreeMap::new(),
        origin: BTreeMap::new(),
        in_progress: BTreeSet::new(),
    };
    let default_server = doc.servers.first().map(|s| s.url.clone());
    let mut ops = Vec::new();
    // tag -> (paths in order, op indices)
    let mut tags: IndexMap<String, Vec<usize>> = IndexMap::new();
    let mut seen_ids = BTreeSet::new();
    for (path, item) in path_items(doc)? {
        let methods: [(Method, Option<&Operation>); 3] = [
            (Method::Post, item.post.as_ref()),
            (Method::Get, item.get.as_ref()),
            (Method::Delete, item.delete.as_ref()),
        ];
        for unsupported in [
            ("put", item.put.is_some()),
            ("patch", item.patch.is_some()),
            ("head", item.head.is_some()),
            ("options", item.options.is_some()),
            ("trace", item.trace.is_some()),
        ] {
            if unsupported.1 {
                let kept = [
                    &item.put,
                    &item.patch,
                    &item.head,
                    &item.options,
                    &item.trace,
                ]
                .into_iter()
                .flatten()
                .any(|o| {
                    o.operation_id
                        .as_deref()
                        .is_some_and(|id| spec.operations.keeps(id))
                });
                if kept {
                    return Err(fail!(
                        "#/paths/{path}: method {} is unsupported",
                        unsupported.0
                    ));
                }
            }
        }
        for (method, op) in methods {
            let Some(op) = op else { continue };
            let at = format!("#/paths/{path}/{}", format!("{method:?}").to_lowercase());
            let id = op
                .operation_id
                .clone()
                .ok_or_else(|| fail!("{at}: operation has no operationId"))?;
            if !spec.operations.keeps(&id) {
                continue;
            }
            if !seen_ids.insert(id.clone()) {
                return Err(fail!("{at}: duplicate operationId {id}"));
            }
            let base_url = item
                .servers
                .first()
                .or(op.servers.first())
                .map(|s| s.url.clone())
                .or(default_server.clone())
                .ok_or_else(|| fail!("{at}: no server URL for the operation"))?;
            let lowered = lower_op(
                &mut lowerer,
                spec,
                path,
                item,
                op,
                method,
                id,
                base_url,
                &at,
            )?;
            let tag = op
                .tags
                .first()
                .cloned()
                .ok_or_else(|| fail!("{at}: operation has no tag to group it by"))?;
            tags.entry(tag).or_default().push(ops.len());
            ops.push(lowered);
        }
    }
    if let crate::pin::Operations::Only(ids) = &spec.operations {
        for id in ids {
            if !seen_ids.contains(id) {
                return Err(fail!(
                    "spec/pin.toml keeps operation {id} of module {}, but the spec has no such operation",
                    spec.module
                ));
            }
        }
    }
    if ops.len() != spec.expected_operations {
        return Err(fail!(
            "module {}: {} operations kept, spec/pin.toml expects {}; update the pin deliberately",
            spec.module,
            ops.len(),
            spec.expected_operations
        ));
    }
    let groups = group(&mut ops, &tags, doc)?;
    for g in &groups {
        if lowerer.types.contains_key(&g.type_name) {
            return Err(fail!(
                "module {}: the resource {} and a model both map to the Rust type {}; add a \
                 rename of the model to spec/overlay.json",
                spec.module,
                g.collection_path,
                g.type_name
            ));
        }
    }
    Ok(Api {
        module: spec.module.clone(),
        title: doc.info.title.clone(),
        groups,
        ops,
        types: lowerer.types,
    })
}

fn group(ops: &mut [Op], tags: &IndexMap<String, Vec<usize>>, doc: &OpenAPI) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    for members in tags.values() {
        // The collection path: the shortest path among the group's operations.
        let collection = members
            .iter()
            .map(|&i| ops[i].path.as_str())
            .min_by_key(|p| (p.len(), *p))
            .expect("a tag has at least one operation")
            .to_owned();
        let class_name = doc
            .paths
            .paths
            .get(&collection)
            .and_then(|p| p.as_item())
            .and_then(|p| p.extensions.get("x-twilio"))
            .and_then(|x| x.get("className"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let last_literal = literal_segments(&collection)
            .last()
            .map(|s| s.trim_end_matches(".json").to_snake_case())
            .unwrap_or_default();
        groups.push(Group {
            type_name: String::new(),
            accessor: class_name.unwrap_or(last_literal),
            parent: None,
            bound: Vec::new(),
            collection_path: collection,
            ops: members.clone(),
        });
    }
    // Nesting: a group whose collection path extends another group's instance path.
    let instance_paths: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            g.ops
                .iter()
                .map(|&i| normalized(&ops[i].path))
                .filter(|p| p.contains("{}"))
                .collect()
        })
        .collect();
    for gi in 0..groups.len() {
        let own = normalized(&groups[gi].collection_path);
        let parent = (0..groups.len()).filter(|&pi| pi != gi).find(|&pi| {
            instance_paths[pi]
                .iter()
                .any(|ip| own.starts_with(&format!("{ip}/")) && ip.ends_with("{}"))
        });
        if let Some(pi) = parent {
            let accessor = literal_segments(&groups[gi].collection_path)
                .last()
                .map(|s| s.trim_end_matches(".json").to_snake_case())
                .unwrap_or_default();
            groups[gi].parent = Some(pi);
            groups[gi].accessor = accessor;
            // The parent's instance path has as many params as are bound here.
            let bound_count = instance_paths[pi]
                .iter()
                .filter(|ip| own.starts_with(&format!("{ip}/")))
                .map(|ip| ip.matches("{}").count())
                .max()
                .unwrap_or(0);
            let names: Vec<String> = path_param_names(&groups[gi].collection_path)
                .into_iter()
                .take(bound_count)
                .map(str::to_owned)
                .collect();
            let first = groups[gi].ops[0];
            let bound: Vec<Param> = ops[first]
                .path_params
                .iter()
                .filter(|p| names.contains(&p.wire) && !p.ambient)
                .cloned()
                .collect();
            for &oi in &groups[gi].ops {
                for b in &bound {
                    if !ops[oi].path_params.iter().any(|p| p.wire == b.wire) {
                        return Err(fail!(
                            "#/paths/{}: operation {} lacks the parent parameter {}",
                            ops[oi].path,
                            ops[oi].id,
                            b.wire
                        ));
                    }
                }
            }
            groups[gi].bound = bound;
        }
    }
    for gi in 0..groups.len() {
        let mut name = groups[gi].accessor.to_upper_camel_case();
        let mut cursor = groups[gi].parent;
        while let Some(pi) = cursor {
            name = format!("{}{name}", groups[pi].accessor.to_upper_camel_case());
            cursor = groups[pi].parent;
        }
        groups[gi].type_name = name;
        for &oi in &groups[gi].ops.clone() {
            ops[oi].group = gi;
        }
    }
    // Method names must be unique within a group.
    for g in &groups {
        let mut names = BTreeSet::new();
        for &oi in &g.ops {
            if !names.insert(ops[oi].verb) {
                return Err(fail!(
                    "resource {}: two operations map to the method name {}",
                    g.type_name,
                    ops[oi].verb.method_name()
                ));
            }
        }
    }
    let mut type_names = BTreeSet::new();
    for g in &groups {
        if !type_names.insert(g.type_name.clone()) {
            return Err(fail!("two resources map to the Rust type {}", g.type_name));
        }
    }
    Ok(groups)
}

#[allow(clippy::too_many_arguments)]
fn lower_op(
    lowerer: &mut Lowerer<'_>,
    spec: &SpecPin,
    path: &str,
    item: &PathItem,
    op: &Operation,
    method: Method,
    id: String,
    base_url: String,
    at: &str,
) -> Result<Op> {
    let verb = Verb::of(&id).ok_or_else(|| {
        let words: Vec<&str> = Verb::ALL.iter().map(|v| v.word()).collect();
        fail!("{at}: operationId {id} starts with none of {words:?}")
    })?;
    let (path_params, query_params) = lower_params(lowerer, spec, path, item, op, &id, at)?;
    let (body_params, request_examples) = lower_body(lowerer, op, &id, at)?;
    let (success, response_examples) = lower_success(lowerer, op, &id, at)?;
    let (status, response) = success.ok_or_else(|| fail!("{at}: no success response"))?;
    if matches!(response, Resp::Page { .. }) != (verb == Verb::List) {
        return Err(fail!(
            "{at}: only list operations may return a page (and they must)"
        ));
    }
    Ok(Op {
        id,
        verb,
        method,
        path: path.to_owned(),
        base_url,
        summary: op.summary.clone(),
        description: op.description.clone(),
        path_params,
        query_params,
        body_params,
        response,
        status,
        group: usize::MAX,
        response_examples,
        request_examples,
    })
}

/// The path and query parameters of an operation (path-item and operation level), checked
/// against the path template.
fn lower_params(
    lowerer: &mut Lowerer<'_>,
    spec: &SpecPin,
    path: &str,
    item: &PathItem,
    op: &Operation,
    id: &str,
    at: &str,
) -> Result<(Vec<Param>, Vec<Param>)> {
    let mut path_params = Vec::new();
    let mut query_params = Vec::new();
    for (i, p) in item.parameters.iter().chain(&op.parameters).enumerate() {
        let p_at = format!("{at}/parameters/{i}");
        let p = match p {
            ReferenceOr::Item(p) => p,
            ReferenceOr::Reference { reference } => {
                return Err(fail!("{p_at}: parameter $ref {reference} is unsupported"));
            }
        };
        let (data, location) = match p {
            Parameter::Path { parameter_data, .. } => (parameter_data, Location::Path),
            Parameter::Query { parameter_data, .. } => (parameter_data, Location::Query),
            Parameter::Header { parameter_data, .. } | Parameter::Cookie { parameter_data, .. } => {
                return Err(fail!(
                    "{p_at}: header and cookie parameter {} unsupported",
                    parameter_data.name
                ));
            }
        };
        let schema = match &data.format {
            ParameterSchemaOrContent::Schema(s) => s,
            ParameterSchemaOrContent::Content(_) => {
                return Err(fail!(
                    "{p_at}: parameter {} with `content` unsupported",
                    data.name
                ));
            }
        };
        let context = format!("{id}{}", data.name.to_upper_camel_case());
        let ty = match schema {
            ReferenceOr::Reference { reference } => lowerer.lower_named(reference, &p_at)?,
            ReferenceOr::Item(s) => lowerer.lower(s, &context, &format!("{p_at}/schema"))?,
        };
        check_param_ty(&ty, &lowerer.types, &p_at)?;
        let ambient = location == Location::Path && spec.ambient_path_params.contains(&data.name);
        let param = Param {
            rust: rust_ident(&data.name),
            wire: data.name.clone(),
            ty,
            required: data.required || location == Location::Path,
            doc: data.description.clone(),
            location,
            ambient,
        };
        if location == Location::Path {
            path_params.push(param);
        } else {
            query_params.push(param);
        }
    }
    let names = path_param_names(path);
    if names.len() != path_params.len()
        || names
            .iter()
            .any(|n| !path_params.iter().any(|p| p.wire == *n))
    {
        return Err(fail!(
            "{at}: path parameters {names:?} and declared parameters differ"
        ));
    }
    Ok((path_params, query_params))
}

/// Request examples of a form body: (name, value).
type RequestExamples = Vec<(String, Value)>;

/// The form body's parameters of an operation and its request examples.
fn lower_body(
    lowerer: &mut Lowerer<'_>,
    op: &Operation,
    id: &str,
    at: &str,
) -> Result<(Vec<Param>, RequestExamples)> {
    let mut body_params = Vec::new();
    let mut request_examples = Vec::new();
    if let Some(body) = &op.request_body {
        let body = match body {
            ReferenceOr::Item(b) => b,
            ReferenceOr::Reference { reference } => {
                return Err(fail!("{at}: requestBody $ref {reference} unsupported"));
            }
        };
        for content_type in body.content.keys() {
            if content_type != "application/x-www-form-urlencoded" {
                return Err(fail!(
                    "{at}: request content type {content_type} unsupported"
                ));
            }
        }
        if let Some(media) = body.content.get("application/x-www-form-urlencoded") {
            for (name, example) in &media.examples {
                if let ReferenceOr::Item(ex) = example
                    && let Some(v) = &ex.value
                {
                    request_examples.push((name.clone(), v.clone()));
                }
            }
            let schema = match &media.schema {
                Some(ReferenceOr::Item(s)) => s,
                Some(ReferenceOr::Reference { reference }) => {
                    return Err(fail!("{at}: request schema $ref {reference} unsupported"));
                }
                None => return Err(fail!("{at}: form body without a schema")),
            };
            let object = match &schema.schema_kind {
                SchemaKind::Type(Type::Object(o)) => o,
                other => {
                    return Err(fail!(
                        "{at}: form body must be an object, found {}",
                        kind_name(other)
                    ));
                }
            };
            for (wire, prop) in &object.properties {
                let p_at = format!("{at}/requestBody/properties/{wire}");
                let context = format!("{id}{}", wire.to_upper_camel_case());
                let ty = lowerer.lower_ref_or(prop, &context, &p_at)?;
                check_param_ty(&ty, &lowerer.types, &p_at)?;
                let doc = match prop {
                    ReferenceOr::Item(s) => s.schema_data.description.clone(),
                    ReferenceOr::Reference { .. } => None,
                };
                body_params.push(Param {
                    rust: rust_ident(wire),
                    wire: wire.clone(),
                    ty,
                    required: object.required.contains(wire),
                    doc,
                    location: Location::Body,
                    ambient: false,
                });
            }
        }
    }
    Ok((body_params, request_examples))
}

/// Response examples: (status, name, value).
type ResponseExamples = Vec<(u16, String, Value)>;

/// The 2xx answer of an operation (status and what it holds) and its response examples. Several
/// 2xx statuses are accepted when they hold the same thing (a vetting answers 201 or 202 with the
/// same model); the first is the one documented.
fn lower_success(
    lowerer: &mut Lowerer<'_>,
    op: &Operation,
    id: &str,
    at: &str,
) -> Result<(Option<(u16, Resp)>, ResponseExamples)> {
    // Responses: one 2xx, or several holding the same thing.
    let mut success: Option<(u16, Resp)> = None;
    let mut response_examples = Vec::new();
    for (code, resp) in &op.responses.responses {
        let StatusCode::Code(code) = code else {
            return Err(fail!("{at}: response status ranges unsupported"));
        };
        if !(200..300).contains(code) {
            continue;
        }
        let resp = match resp {
            ReferenceOr::Item(r) => r,
            ReferenceOr::Reference { reference } => {
                return Err(fail!("{at}: response $ref {reference} unsupported"));
            }
        };
        let json = resp.content.get("application/json");
        let kind = match json.and_then(|m| m.schema.as_ref()) {
            None => Resp::Empty,
            Some(ReferenceOr::Reference { reference }) => {
                let r_at = format!("{at}/responses/{code}");
                match lowerer.lower_named(reference, &r_at)? {
                    Ty::Named(n) => Resp::Model(n),
                    _ => unreachable!("lower_named returns Named"),
                }
            }
            Some(ReferenceOr::Item(schema)) => {
                lower_page(lowerer, schema, id, &format!("{at}/responses/{code}"))?
            }
        };
        if let Some(media) = json {
            for (name, example) in &media.examples {
                if let ReferenceOr::Item(ex) = example
                    && let Some(v) = &ex.value
                {
                    response_examples.push((*code, name.clone(), v.clone()));
                }
            }
        }
        match &success {
            None => success = Some((*code, kind)),
            Some((_, first)) if *first == kind => {}
            Some((first_code, _)) => {
                return Err(fail!(
                    "{at}: success responses {first_code} and {code} hold different things"
                ));
            }
        }
    }
    Ok((success, response_examples))
}

fn check_param_ty(ty: &Ty, types: &BTreeMap<String, TypeDef>, at: &str) -> Result<()> {
    match ty {
        Ty::Str { .. } | Ty::Sid { .. } | Ty::Int { .. } | Ty::Bool | Ty::Json | Ty::Num => Ok(()),
        Ty::Array(inner) if matches!(**inner, Ty::Str { .. }) => Ok(()),
        Ty::Named(n) if matches!(types.get(n), Some(TypeDef::Enum { .. })) => Ok(()),
        other => Err(fail!(
            "{at}: parameter type {other:?} cannot be sent as a form or query value"
        )),
    }
}

fn lower_page(lowerer: &mut Lowerer<'_>, schema: &Schema, id: &str, at: &str) -> Result<Resp> {
    let SchemaKind::Type(Type::Object(o)) = &schema.schema_kind else {
        return Err(fail!(
            "{at}: inline response schema must be an object (a list page)"
        ));
    };
    let name = schema
        .schema_data
        .title
        .clone()
        .unwrap_or_else(|| format!("{id}Response"))
        .to_upper_camel_case();
    let mut items = None;
    let mut flat = Vec::new();
    let mut has_meta = false;
    for (wire, prop) in &o.properties {
        let p_at = format!("{at}/properties/{wire}");
        match prop {
            ReferenceOr::Item(s) => match &s.schema_kind {
                SchemaKind::Type(Type::Array(a)) => {
                    let Some(ReferenceOr::Reference { reference }) = &a.items else {
                        return Err(fail!("{p_at}: list items must be a $ref"));
                    };
                    if items.is_some() {
                        return Err(fail!("{at}: a page with two item lists"));
                    }
                    let Ty::Named(item) = lowerer.lower_named(reference, &p_at)? else {
                        unreachable!("lower_named returns Named")
                    };
                    items = Some((wire.clone(), item));
                }
                SchemaKind::Type(Type::Object(m)) if wire == "meta" => {
                    if !m.properties.contains_key("next_page_url") {
                        return Err(fail!("{p_at}: meta without next_page_url"));
                    }
                    has_meta = true;
                }
                _ => {
                    let ty = lowerer.lower(
                        s,
                        &format!("{name}{}", wire.to_upper_camel_case()),
                        &p_at,
                    )?;
                    flat.push(Field {
                        rust: rust_ident(wire),
                        wire: wire.clone(),
                        ty,
                        doc: s.schema_data.description.clone(),
                        redact: false,
                    });
                }
            },
            ReferenceOr::Reference { reference } => {
                return Err(fail!(
                    "{p_at}: $ref {reference} in a page envelope unsupported"
                ));
            }
        }
    }
    let (items_field, item) = items.ok_or_else(|| fail!("{at}: a list response without items"))?;
    let flat = if has_meta {
        if !flat.is_empty() {
            return Err(fail!(
                "{at}: a page with both meta and flat envelope fields"
            ));
        }
        None
    } else {
        if !flat.iter().any(|f| f.wire == "next_page_uri") {
            return Err(fail!(
                "{at}: a page with neither meta.next_page_url nor next_page_uri"
            ));
        }
        Some(flat)
    };
    let def = TypeDef::Page {
        doc: Some(format!("One page of the `{id}` list.")),
        items_field,
        item: item.clone(),
        flat,
    };
    lowerer.register(&name, at, def, at)?;
    Ok(Resp::Page { page: name, item })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pin::Operations;

    fn overlay() -> Overlay {
        serde_json::from_value(serde_json::json!({
            "redact": { "why": "test", "properties": ["email"] },
            "sid_kinds": { "why": "test", "rules": [
                { "prefix": "TH", "kind": "ThingSid", "why": "test" }
            ] }
        }))
        .unwrap()
    }

    fn spec_pin(expected: usize) -> SpecPin {
        SpecPin {
            module: "test_v1".into(),
            file: "test.json".into(),
            sha256: String::new(),
            operations: Operations::All("all".into()),
            expected_operations: expected,
            ambient_path_params: vec![],
        }
    }

    /// A one-operation document whose response model has `property`.
    fn doc_with_property(property: Value) -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.1",
            "info": { "title": "Test", "version": "1" },
            "servers": [{ "url": "https://example.twilio.com" }],
            "paths": { "/v1/Things/{Sid}": { "get": {
                "operationId": "FetchThing", "tags": ["TestV1Things"],
                "parameters": [{ "name": "Sid", "in": "path", "required": true,
                    "schema": { "type": "string", "pattern": "^TH[0-9a-fA-F]{32}$" } }],
                "responses": { "200": { "description": "OK", "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/test.v1.thing" } } } } }
            } } },
            "components": { "schemas": { "test.v1.thing": { "type": "object", "properties": {
                "sid": { "type": "string" },
                "odd": property
            } } } }
        }))
        .unwrap()
    }

    #[test]
    fn unsupported_constructs_are_errors_naming_the_schema_path() {
        let cases = [
            (
                serde_json::json!({ "oneOf": [{ "type": "string" }, { "type": "integer" }] }),
                "oneOf",
            ),
            (
                serde_json::json!({ "type": "string", "pattern": "^[a-z]+$" }),
                "unsupported pattern",
            ),
            (
                serde_json::json!({ "type": "string", "format": "binary" }),
                "unsupported string format",
            ),
            (
                serde_json::json!({ "type": "object", "additionalProperties": { "type": "string" } }),
                "additionalProperties",
            ),
        ];
        for (property, what) in cases {
            let error = lower(
                &spec_pin(1),
                &doc_with_property(property.clone()),
                &overlay(),
            )
            .expect_err("unsupported construct accepted")
            .to_string();
            assert!(
                error.contains("#/components/schemas/test.v1.thing/properties/odd"),
                "{property}: {error}"
            );
            assert!(error.contains(what), "{property}: {error}");
        }
    }

    #[test]
    fn supported_shapes_lower_to_the_expected_types() {
        let api = lower(
            &spec_pin(1),
            &doc_with_property(serde_json::json!({ "type": "object", "format": "uri-map" })),
            &overlay(),
        )
        .unwrap();
        let TypeDef::Struct { fields, .. } = &api.types["Thing"] else {
            panic!("not a struct")
        };
        assert_eq!(fields[1].ty, Ty::UriMap);
        assert_eq!(api.groups[0].accessor, "things");
        assert_eq!(api.ops[0].verb, Verb::Fetch);
        assert_eq!(
            api.ops[0].path_params[0].ty,
            Ty::Sid {
                kind: "ThingSid".into(),
                prefix: "TH".into()
            }
        );
    }

    #[test]
    fn the_operation_count_guards_the_scope() {
        let error = lower(
            &spec_pin(2),
            &doc_with_property(serde_json::json!({ "type": "string" })),
            &overlay(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("1 operations kept, spec/pin.toml expects 2"),
            "{error}"
        );
    }

    #[test]
    fn names() {
        assert_eq!(variant_ident("pending-review"), "PendingReview");
        assert_eq!(variant_ident("PENDING_REVIEW"), "PendingReview");
        assert_eq!(variant_ident("UK:CRN"), "UkCrn");
        assert_eq!(
            variant_ident("Limited Liability Corporation"),
            "LimitedLiabilityCorporation"
        );
        assert_eq!(rust_ident("Type"), "type_");
        assert_eq!(
            rust_ident("AuthorizedRepresentative1FirstName"),
            "authorized_representative1_first_name"
        );
        assert_eq!(sid_prefix("^BU[0-9a-fA-F]{32}$").as_deref(), Some("BU"));
        assert_eq!(
            sid_prefix("^[a-zA-Z]{2}[0-9a-fA-F]{32}$").as_deref(),
            Some("")
        );
        assert_eq!(sid_prefix("^[a-z]+$"), None);
        assert_eq!(
            normalized("/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json"),
            "/2010-04-01/Accounts/{}/Addresses/{}.json"
        );
        assert_eq!(path_param_names("/a/{X}/b/{Sid}.json"), vec!["X", "Sid"]);
    }
}
