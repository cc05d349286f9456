//! One parameter: its field type in a builder, its argument type, its docs, its client-side
//! checks and how it is encoded into the query or the form.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{doc, ident, sid_type};
use crate::ir::{Location, Param, Ty};

pub(super) fn param_field_type(p: &Param) -> TokenStream {
    let inner = match &p.ty {
        Ty::Str { .. } => quote!(String),
        Ty::Sid { kind, .. } => {
            let kind = sid_type(kind);
            quote!(Result<#kind, rt::sid::SidError>)
        }
        Ty::Int { .. } => quote!(i64),
        Ty::Num => quote!(f64),
        Ty::Bool => quote!(bool),
        Ty::Json => quote!(rt::serde_json::Value),
        Ty::Array(_) => quote!(Vec<String>),
        Ty::Named(n) => {
            let n = ident(n);
            quote!(#n)
        }
        Ty::Date(_) | Ty::UriMap => unreachable!("checked in ir::check_param_ty"),
    };
    if p.required && !p.ambient {
        inner
    } else {
        quote!(Option<#inner>)
    }
}

/// The argument type a setter or constructor takes, and how it becomes the field value.
pub(super) fn param_arg(p: &Param) -> (TokenStream, TokenStream) {
    let name = ident(&p.rust);
    match &p.ty {
        Ty::Str { .. } => (quote!(impl Into<String>), quote!(#name.into())),
        Ty::Sid { kind, .. } => {
            let kind = sid_type(kind);
            (
                quote!(impl rt::sid::IntoSid<#kind>),
                quote!(rt::sid::IntoSid::into_sid(#name)),
            )
        }
        Ty::Int { .. } => (quote!(i64), quote!(#name)),
        Ty::Num => (quote!(f64), quote!(#name)),
        Ty::Bool => (quote!(bool), quote!(#name)),
        Ty::Json => (
            quote!(impl Into<rt::serde_json::Value>),
            quote!(#name.into()),
        ),
        Ty::Array(_) => (
            quote!(impl IntoIterator<Item = impl Into<String>>),
            quote!(#name.into_iter().map(Into::into).collect()),
        ),
        Ty::Named(n) => {
            let n = ident(n);
            (quote!(#n), quote!(#name))
        }
        Ty::Date(_) | Ty::UriMap => unreachable!("checked in ir::check_param_ty"),
    }
}

pub(super) fn param_doc(p: &Param) -> TokenStream {
    let mut text = p
        .doc
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| format!("The `{}` parameter.", p.wire));
    text.push_str(&format!("\n\nSent as `{}`", p.wire));
    match &p.ty {
        Ty::Sid { kind, prefix } => {
            let pattern = if prefix.is_empty() {
                "^[a-zA-Z]{2}[0-9a-fA-F]{32}$".to_owned()
            } else {
                format!("^{prefix}[0-9a-fA-F]{{32}}$")
            };
            text.push_str(&format!(
                "; a [`{kind}`](crate::runtime::sid::{kind}) or a string matching `{pattern}`"
            ))
        }
        Ty::Int {
            min: Some(min),
            max: Some(max),
        } => text.push_str(&format!("; between {min} and {max}")),
        Ty::Int {
            min: Some(min),
            max: None,
        } => text.push_str(&format!("; at least {min}")),
        Ty::Int {
            min: None,
            max: Some(max),
        } => text.push_str(&format!("; at most {max}")),
        Ty::Json => text.push_str(
            " as one form field: a JSON object or array is sent as compact JSON text, a JSON string as is",
        ),
        Ty::Array(_) => text.push_str(", once per value"),
        _ => {}
    }
    text.push('.');
    doc(&text)
}

/// Validation statements for one parameter whose value is bound to `value` (a `&String`, `&i64`...).
pub(super) fn validation(p: &Param, value: TokenStream) -> TokenStream {
    let wire = &p.wire;
    let mut checks = Vec::new();
    match &p.ty {
        Ty::Str { min_len, max_len } if min_len.is_some() || max_len.is_some() => {
            let min = opt_usize(*min_len);
            let max = opt_usize(*max_len);
            checks.push(quote!(rt::validate::length(OPERATION.id, #wire, #value, #min, #max)?;));
        }
        Ty::Int { min, max } if min.is_some() || max.is_some() => {
            let min = opt_i64(*min);
            let max = opt_i64(*max);
            checks.push(quote!(rt::validate::range(OPERATION.id, #wire, *#value, #min, #max)?;));
        }
        _ => {}
    }
    quote!(#(#checks)*)
}

pub(super) fn opt_usize(v: Option<usize>) -> TokenStream {
    match v {
        Some(v) => {
            let v = Literal::usize_unsuffixed(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

pub(super) fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(v) => {
            let v = Literal::i64_unsuffixed(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

/// Statements that append the parameter (value bound to `value`) to `form` or `query`.
pub(super) fn encode(p: &Param, value: TokenStream) -> TokenStream {
    let wire = &p.wire;
    match p.location {
        Location::Body => match &p.ty {
            Ty::Str { .. } => quote!(form.push(#wire, #value);),
            Ty::Sid { .. } => quote!(form.push(#wire, #value.as_str());),
            Ty::Bool => quote!(form.push_bool(#wire, *#value);),
            Ty::Int { .. } | Ty::Num => quote!(form.push(#wire, &#value.to_string());),
            Ty::Json => quote!(form.push_object(#wire, #value);),
            Ty::Array(_) => quote!(form.push_each(#wire, #value);),
            Ty::Named(_) => quote!(form.push(#wire, rt::StringEnum::as_str(#value));),
            Ty::Date(_) | Ty::UriMap => unreachable!(),
        },
        Location::Query => match &p.ty {
            Ty::Str { .. } => quote!(query.push((#wire, #value.clone()));),
            Ty::Sid { .. } => quote!(query.push((#wire, #value.as_str().to_owned()));),
            Ty::Bool | Ty::Int { .. } | Ty::Num => quote!(query.push((#wire, #value.to_string()));),
            Ty::Named(_) => {
                quote!(query.push((#wire, rt::StringEnum::as_str(#value).to_owned()));)
            }
            Ty::Json => {
                quote!(query.push((#wire, rt::serde_json::to_string(#value).unwrap_or_default()));)
            }
            Ty::Array(_) => quote!(for item in #value { query.push((#wire, item.clone())); }),
            Ty::Date(_) | Ty::UriMap => unreachable!(),
        },
        Location::Path => quote!(),
    }
}

/// Appends one query or body parameter: a SID from its checked local, anything else from the
/// builder's field.
pub(super) fn encode_stmt(p: &Param, checked_local: bool) -> TokenStream {
    let name = ident(&p.rust);
    match (p.required, checked_local) {
        (true, true) => encode(p, quote!(#name)),
        // A required boolean is read by value (`*&self.x` is what clippy refuses).
        (true, false) if p.location == Location::Body && p.ty == Ty::Bool => {
            let wire = &p.wire;
            quote!(form.push_bool(#wire, self.#name);)
        }
        (true, false) => encode(p, quote!(&self.#name)),
        (false, true) => {
            let e = encode(p, quote!(value));
            quote!(if let Some(value) = #name { #e })
        }
        (false, false) => {
            let e = encode(p, quote!(value));
            quote!(if let Some(value) = &self.#name { #e })
        }
    }
}
