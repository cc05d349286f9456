//! Models, string enums and list pages.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{doc_opt, ident, sid_type, UNLISTED};
use crate::ir::{variant_ident, DateFormat, Field, Ty, TypeDef};
use crate::{fail, Result};

/// One named type: a model, a string enum or a list page.
pub(super) fn emit_type(name: &str, def: &TypeDef) -> Result<TokenStream> {
    Ok(match def {
        TypeDef::Struct { doc, fields, extra } => emit_struct(name, doc.as_deref(), fields, *extra),
        TypeDef::Enum { doc, values } => emit_enum(name, doc.as_deref(), values)?,
        TypeDef::Page {
            doc,
            items_field,
            item,
            flat,
        } => emit_page(name, doc.as_deref(), items_field, item, flat.as_deref()),
    })
}

/// The Rust type of a model field or page envelope field.
pub(super) fn model_type(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Str { .. } => quote!(String),
        Ty::Sid { kind, .. } => sid_type(kind),
        Ty::Int { .. } => quote!(i64),
        Ty::Num => quote!(f64),
        Ty::Bool => quote!(bool),
        Ty::Date(_) => quote!(rt::time::OffsetDateTime),
        Ty::Array(inner) => {
            let inner = model_type(inner);
            quote!(Vec<#inner>)
        }
        Ty::Json => quote!(rt::serde_json::Value),
        Ty::UriMap => quote!(std::collections::BTreeMap<String, String>),
        Ty::Named(n) => {
            let n = ident(n);
            quote!(#n)
        }
    }
}

pub(super) fn field_tokens(f: &Field) -> (TokenStream, TokenStream) {
    let name = ident(&f.rust);
    let ty = model_type(&f.ty);
    let docs = doc_opt(f.doc.as_deref(), &format!("`{}`.", f.wire));
    let wire = &f.wire;
    let rename = (f.rust != f.wire).then(|| quote!(#[serde(rename = #wire)]));
    let with = match &f.ty {
        Ty::Date(DateFormat::Iso8601) => Some(quote!(#[serde(with = "rt::date::iso8601_option")])),
        Ty::Date(DateFormat::Rfc2822) => Some(quote!(#[serde(with = "rt::date::rfc2822_option")])),
        Ty::Sid { .. } => Some(quote!(#[serde(deserialize_with = "rt::sid::option_lenient")])),
        _ => None,
    };
    let decl = quote! {
        #docs
        #rename
        #with
        pub #name: Option<#ty>,
    };
    let debug = if f.redact {
        quote!(.field(#wire, &self.#name.as_ref().map(|_| rt::REDACTED)))
    } else {
        quote!(.field(#wire, &self.#name))
    };
    (decl, debug)
}

pub(super) fn emit_struct(
    name: &str,
    doc_text: Option<&str>,
    fields: &[Field],
    extra: bool,
) -> TokenStream {
    let ty = ident(name);
    let docs = doc_opt(doc_text, &format!("The `{name}` model."));
    let (decls, debugs): (Vec<_>, Vec<_>) = fields.iter().map(field_tokens).unzip();
    // The catch-all of undocumented keys is `extra`, unless a documented field has that name.
    let extra_name = ["extra", "undocumented"]
        .into_iter()
        .find(|candidate| fields.iter().all(|f| f.rust != *candidate))
        .unwrap_or("undocumented_keys");
    let extra_field = ident(extra_name);
    let extra_decl = extra.then(|| {
        quote! {
            /// Keys the spec does not document, kept as they came.
            #[serde(flatten)]
            pub #extra_field: std::collections::BTreeMap<String, rt::serde_json::Value>,
        }
    });
    let extra_debug =
        extra.then(|| quote!(.field(#extra_name, &self.#extra_field.keys().collect::<Vec<_>>())));
    quote! {
        #docs
        #[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        #[non_exhaustive]
        pub struct #ty {
            #(#decls)*
            #extra_decl
        }

        impl std::fmt::Debug for #ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#name)
                    #(#debugs)*
                    #extra_debug
                    .finish()
            }
        }
    }
}

pub(super) fn emit_enum(
    name: &str,
    doc_text: Option<&str>,
    values: &[String],
) -> Result<TokenStream> {
    let ty = ident(name);
    let docs = doc_opt(doc_text, &format!("The `{name}` values."));
    let variants: Vec<Ident> = values.iter().map(|v| ident(&variant_ident(v))).collect();
    if variants.iter().any(|v| v == UNLISTED) {
        return Err(fail!(
            "enum {name}: a value maps to the reserved variant {UNLISTED}"
        ));
    }
    let variant_docs = values.iter().map(|v| {
        let d = format!(" `{v}`");
        quote!(#[doc = #d])
    });
    let unlisted = ident(UNLISTED);
    Ok(quote! {
        #docs
        ///
        /// Values this version of the spec does not list are kept in the `Unlisted` variant.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #ty {
            #(#variant_docs #variants,)*
            /// A value the spec does not list (yet), kept exactly as received or given.
            #unlisted(String),
        }

        impl rt::StringEnum for #ty {
            fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #values,)*
                    Self::#unlisted(value) => value,
                }
            }
            fn from_wire(value: &str) -> Self {
                match value {
                    #(#values => Self::#variants,)*
                    other => Self::#unlisted(other.to_owned()),
                }
            }
        }

        impl #ty {
            /// The value on the wire, e.g. `pending-review`.
            pub fn as_str(&self) -> &str {
                rt::StringEnum::as_str(self)
            }
        }

        rt::string_enum_impls!(#ty);
    })
}

pub(super) fn emit_page(
    name: &str,
    doc_text: Option<&str>,
    items_field: &str,
    item: &str,
    flat: Option<&[Field]>,
) -> TokenStream {
    let ty = ident(name);
    let item_ty = ident(item);
    let items = ident(&crate::ir::rust_ident(items_field));
    let items_rename = (crate::ir::rust_ident(items_field) != items_field)
        .then(|| quote!(#[serde(rename = #items_field)]));
    let docs = doc_opt(doc_text, &format!("A page of `{item}`."));
    let items_doc = format!(" The items of this page (`{items_field}` on the wire).");
    let (envelope, next, debug_env) = match flat {
        None => (
            quote! {
                /// Paging information (`meta`).
                pub meta: Option<rt::ListMeta>,
            },
            quote!(self.meta.as_ref().and_then(|m| m.next_page_url.as_deref())),
            quote!(.field("meta", &self.meta)),
        ),
        Some(fields) => {
            let (decls, debugs): (Vec<_>, Vec<_>) = fields.iter().map(field_tokens).unzip();
            (
                quote!(#(#decls)*),
                quote!(self.next_page_uri.as_deref()),
                quote!(#(#debugs)*),
            )
        }
    };
    quote! {
        #docs
        #[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        #[non_exhaustive]
        pub struct #ty {
            #[doc = #items_doc]
            #items_rename
            pub #items: Vec<#item_ty>,
            #envelope
        }

        impl std::fmt::Debug for #ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#name)
                    .field(#items_field, &self.#items)
                    #debug_env
                    .finish()
            }
        }

        impl rt::Page for #ty {
            type Item = #item_ty;
            fn next_page(&self) -> Option<&str> {
                #next.filter(|next| !next.is_empty())
            }
            fn into_items(self) -> Vec<#item_ty> {
                self.#items
            }
        }
    }
}
