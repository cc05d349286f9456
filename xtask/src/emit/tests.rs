//! The generated test that checks the generated crate against the spec's own examples.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::{ident, render, Provenance};
use crate::ir::{Api, Location, Op, Param, Resp, Ty};
use crate::{fail, Result};

/// A literal value for `ty` taken from a spec example, as a Rust expression.
pub(super) fn example_expr(api: &Api, ty: &Ty, value: &Value) -> Result<TokenStream> {
    Ok(match (ty, value) {
        (Ty::Str { .. } | Ty::Sid { .. }, Value::String(s)) => quote!(#s),
        (Ty::Bool, Value::Bool(b)) => quote!(#b),
        (Ty::Bool, Value::String(s)) if s == "true" || s == "false" => {
            let b = s == "true";
            quote!(#b)
        }
        (Ty::Int { .. }, Value::Number(n)) if n.is_i64() => {
            let v = Literal::i64_suffixed(n.as_i64().unwrap_or_default());
            quote!(#v)
        }
        (Ty::Json, v) => {
            let text = v.to_string();
            quote!(serde_json::from_str::<serde_json::Value>(#text).expect("example JSON"))
        }
        (Ty::Array(_), Value::Array(items)) => {
            let items = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| fail!("non-string array example"))
                })
                .collect::<Result<Vec<_>>>()?;
            quote!([#(#items),*])
        }
        (Ty::Named(n), Value::String(s)) => {
            let module = ident(&api.module);
            let n = ident(n);
            quote!(<trusthub_generated::#module::#n as trusthub_generated::runtime::StringEnum>::from_wire(#s))
        }
        (ty, v) => {
            return Err(fail!(
                "example value {v} does not fit parameter type {ty:?}"
            ));
        }
    })
}

pub(super) fn placeholder(p: &Param) -> TokenStream {
    match &p.ty {
        Ty::Sid { prefix, .. } => {
            let prefix = if prefix.is_empty() { "XX" } else { prefix };
            let v = format!("{prefix}{}", "a".repeat(32));
            quote!(#v)
        }
        Ty::Str { .. } => {
            let v = format!("{}-example", p.rust);
            quote!(#v)
        }
        Ty::Bool => quote!(true),
        Ty::Int { min, .. } => {
            let v = Literal::i64_suffixed(min.unwrap_or(1));
            quote!(#v)
        }
        _ => quote!(Default::default()),
    }
}

/// Escapes a JSON pointer token.
pub(super) fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The generated test that checks the generated crate against the spec's own examples: every
/// response example decodes into its type without losing a key; every request example encodes
/// to exactly its form fields.
pub fn emit_examples_test(
    apis: &[Api],
    files: &[(String, String)],
    provenance: &Provenance,
) -> Result<String> {
    let mut response_rows = Vec::new();
    let mut request_tests = Vec::new();
    for (api, (_, file)) in apis.iter().zip(files) {
        response_rows.extend(response_rows_of(api, file));
        for op in &api.ops {
            for (ex_name, example) in &op.request_examples {
                request_tests.push(request_example_test(api, op, ex_name, example)?);
            }
        }
    }
    let harness = harness(response_rows);
    let tokens = quote! {
        #harness
        #(#request_tests)*
    };
    render(tokens, provenance, "spec example tests")
}

/// One row per JSON response example of `api`: label, spec file, JSON pointer, checker.
fn response_rows_of(api: &Api, file: &str) -> Vec<TokenStream> {
    let module = ident(&api.module);
    let mut rows = Vec::new();
    for op in &api.ops {
        let method = op.method.word().to_lowercase();
        for (status, name, _) in &op.response_examples {
            let pointer = format!(
                "/paths/{}/{method}/responses/{status}/content/application~1json/examples/{}/value",
                pointer_token(&op.path),
                pointer_token(name)
            );
            let ty = match &op.response {
                Resp::Model(m) | Resp::Page { page: m, .. } => ident(m),
                Resp::Empty => continue,
            };
            let label = format!("{} {name}", op.id);
            rows.push(quote! {
                (#label, #file, #pointer, check::<trusthub_generated::#module::#ty> as Check)
            });
        }
    }
    rows
}

/// The test of one request example: the builder called with the example's values encodes
/// exactly the example's form fields.
fn request_example_test(api: &Api, op: &Op, ex_name: &str, example: &Value) -> Result<TokenStream> {
    let Value::Object(map) = example else {
        return Err(fail!(
            "{}: request example {ex_name} is not an object",
            op.id
        ));
    };
    let group = &api.groups[op.group];
    // Build the call chain from the client down to the operation.
    let mut chain = Vec::new();
    let mut cursor = Some(op.group);
    while let Some(gi) = cursor {
        chain.push(gi);
        cursor = api.groups[gi].parent;
    }
    chain.reverse();
    let mut call = quote!(client);
    for gi in chain {
        let g = &api.groups[gi];
        let acc = ident(&g.accessor);
        let args: Vec<TokenStream> = g.bound.iter().map(placeholder).collect();
        call = quote!(#call.#acc(#(#args),*));
    }
    let all: Vec<&Param> = op
        .path_params
        .iter()
        .chain(&op.query_params)
        .chain(&op.body_params)
        .collect();
    let is_bound = |p: &Param| group.bound.iter().any(|b| b.wire == p.wire);
    let mut args = Vec::new();
    for p in all
        .iter()
        .filter(|p| p.required && !p.ambient && !is_bound(p))
    {
        args.push(match map.get(&p.wire) {
            Some(v) => example_expr(api, &p.ty, v)
                .map_err(|e| fail!("{} example {ex_name}, {}: {e}", op.id, p.wire))?,
            None => placeholder(p),
        });
    }
    let method_name = ident(op.verb.method_name());
    call = quote!(#call.#method_name(#(#args),*));
    for p in all
        .iter()
        .filter(|p| !p.required && p.location == Location::Body)
    {
        if let Some(v) = map.get(&p.wire) {
            let setter = ident(&p.rust);
            let e = example_expr(api, &p.ty, v)
                .map_err(|e| fail!("{} example {ex_name}, {}: {e}", op.id, p.wire))?;
            call = quote!(#call.#setter(#e));
        }
    }
    for key in map.keys() {
        if !op.body_params.iter().any(|p| &p.wire == key) {
            return Err(fail!(
                "{} example {ex_name}: unknown parameter {key}",
                op.id
            ));
        }
    }
    let expected: Vec<TokenStream> = map
        .iter()
        .flat_map(|(k, v)| match v {
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    let i = i.as_str().unwrap_or_default().to_owned();
                    quote!((#k, #i))
                })
                .collect::<Vec<_>>(),
            Value::String(s) => vec![quote!((#k, #s))],
            other => {
                let s = other.to_string();
                vec![quote!((#k, #s))]
            }
        })
        .collect();
    let test_name = format_ident!(
        "request_example_{}_{}",
        heck::ToSnakeCase::to_snake_case(op.id.as_str()),
        heck::ToSnakeCase::to_snake_case(ex_name)
    );
    Ok(quote! {
        #[test]
        fn #test_name() {
            let client = client();
            let request = #call.to_request().expect("the spec's example is valid");
            let body = request.form.as_ref().expect("a form body").encode();
            assert_form(&body, &[#(#expected),*]);
        }
    })
}

/// The fixed part of the test file: the spec loader, the checkers, the response-example test
/// over `rows`, and the form helpers the request tests use.
fn harness(rows: Vec<TokenStream>) -> TokenStream {
    let count = rows.len();
    let response_rows = rows;
    quote! {
        //! The generated crate against the pinned spec's own examples: every JSON response example
        //! deserializes into its generated type without losing a key, and every request example
        //! encodes to exactly the documented form fields.
        #![allow(clippy::needless_borrows_for_generic_args)]

        use std::path::PathBuf;

        use serde_json::Value;
        use trusthub_generated::runtime::{Credentials, Transport};

        type Check = fn(&Value) -> Result<(), String>;

        fn spec(file: &str) -> Value {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!("{}: {e}; run `cargo xtask spec` to fetch the pinned specs", path.display())
            });
            serde_json::from_str(&text).expect("the pinned spec is JSON")
        }

        /// Deserializes `value` into `T`, then checks that serializing it back keeps every key.
        fn check<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Result<(), String> {
            let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
            let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
            covers(&back, value, "$")
        }

        fn covers(back: &Value, example: &Value, at: &str) -> Result<(), String> {
            match (back, example) {
                (Value::Object(b), Value::Object(e)) => {
                    for (key, value) in e {
                        let inner = b.get(key).ok_or_else(|| format!("{at}.{key} was dropped"))?;
                        covers(inner, value, &format!("{at}.{key}"))?;
                    }
                    Ok(())
                }
                (Value::Array(b), Value::Array(e)) => {
                    if b.len() != e.len() {
                        return Err(format!("{at}: {} items became {}", e.len(), b.len()));
                    }
                    for (i, (bi, ei)) in b.iter().zip(e).enumerate() {
                        covers(bi, ei, &format!("{at}[{i}]"))?;
                    }
                    Ok(())
                }
                (Value::Null, Value::Null) => Ok(()),
                // A SID field reads `""` as none (the lenient SID rule).
                (Value::Null, Value::String(s)) if s.is_empty() => Ok(()),
                (Value::Null, other) => Err(format!("{at}: {other} became null")),
                _ => Ok(()),
            }
        }

        const RESPONSE_EXAMPLES: [(&str, &str, &str, Check); #count] = [#(#response_rows),*];

        #[test]
        fn every_response_example_deserializes() {
            let mut failures = Vec::new();
            let mut specs = std::collections::BTreeMap::new();
            for (label, file, pointer, check) in RESPONSE_EXAMPLES {
                let doc = specs.entry(file).or_insert_with(|| spec(file));
                match doc.pointer(pointer) {
                    None => failures.push(format!("{label}: no example at {pointer}")),
                    Some(value) => {
                        if let Err(e) = check(value) {
                            failures.push(format!("{label}: {e}"));
                        }
                    }
                }
            }
            println!(
                "spec response examples: {}/{} deserialize",
                RESPONSE_EXAMPLES.len() - failures.len(),
                RESPONSE_EXAMPLES.len()
            );
            assert!(failures.is_empty(), "{}", failures.join("\n"));
        }

        fn client() -> trusthub_generated::Client {
            let transport = Transport::builder()
                .credentials(Credentials::auth_token(
                    "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    "example-token",
                ))
                .build()
                .expect("a transport");
            trusthub_generated::Client::new(transport)
        }

        fn decode(s: &str) -> String {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                    out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                    i += 3;
                } else {
                    assert_ne!(bytes[i], b'+', "a space must be sent as %20, not +");
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).expect("UTF-8")
        }

        /// The encoded body holds exactly the expected pairs (order aside).
        fn assert_form(body: &str, expected: &[(&str, &str)]) {
            let mut got: Vec<(String, String)> = body
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("key=value");
                    (decode(k), decode(v))
                })
                .collect();
            let mut want: Vec<(String, String)> =
                expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "encoded body: {body}");
        }
    }
}
