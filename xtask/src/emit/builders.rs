//! One request builder per operation: its struct, constructor, setters, `to_request`, `send`
//! and, for lists, `into_stream`. [`emit_op`] puts the pieces together; each piece is one
//! function of [`OpContext`], the operation with its parameters sorted by role.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::params::{encode_stmt, param_arg, param_doc, param_field_type, validation};
use super::{doc, doc_opt, ident};
use crate::ir::{Api, Method, Op, Param, Resp, Ty, Verb};
use crate::{fail, Result};

/// The name of the `Operation` static of `op`.
pub(super) fn op_static(op: &Op) -> Ident {
    format_ident!(
        "{}",
        heck::ToShoutySnakeCase::to_shouty_snake_case(op.id.as_str())
    )
}

/// What one operation contributes to its module.
pub(super) struct OpCode {
    /// The request builder and its impls.
    pub(super) items: TokenStream,
    /// The constructor method on the resource.
    pub(super) constructor: TokenStream,
    /// The `Operation` static.
    pub(super) operation: TokenStream,
}

/// One operation and its parameters, sorted by role.
struct OpContext<'a> {
    op: &'a Op,
    builder: Ident,
    /// Every parameter: path, query, body.
    all: Vec<&'a Param>,
    /// Bound by the parent resource (its path parameters).
    bound: Vec<&'a Param>,
}

impl<'a> OpContext<'a> {
    fn new(api: &'a Api, op: &'a Op) -> Self {
        OpContext {
            op,
            builder: ident(&op.id),
            all: op
                .path_params
                .iter()
                .chain(&op.query_params)
                .chain(&op.body_params)
                .collect(),
            bound: api.groups[op.group].bound.iter().collect(),
        }
    }

    fn is_bound(&self, p: &Param) -> bool {
        self.bound.iter().any(|b| b.wire == p.wire)
    }

    /// Positional arguments of the constructor: required, not ambient, not bound.
    fn positional(&self) -> Vec<&'a Param> {
        self.all
            .iter()
            .copied()
            .filter(|p| p.required && !p.ambient && !self.is_bound(p))
            .collect()
    }

    /// Parameters with a setter: optional or ambient.
    fn optional(&self) -> Vec<&'a Param> {
        self.all
            .iter()
            .copied()
            .filter(|p| !p.required || p.ambient)
            .collect()
    }

    fn is_list(&self) -> bool {
        self.op.verb == Verb::List
    }

    /// `` `GET /v1/Policies/{Sid}` (operation `FetchPolicy`).``
    fn summary_line(&self) -> String {
        let op = self.op;
        format!(
            " `{} {}` (operation `{}`).",
            op.method.word(),
            op.path,
            op.id
        )
    }

    /// The `Operation` static describing the operation.
    fn operation_static(&self) -> TokenStream {
        let op = self.op;
        let name = op_static(op);
        let method = match op.method {
            Method::Get => quote!(rt::HttpMethod::Get),
            Method::Post => quote!(rt::HttpMethod::Post),
            Method::Delete => quote!(rt::HttpMethod::Delete),
        };
        let (id, base_url, path) = (&op.id, &op.base_url, &op.path);
        let line = self.summary_line();
        quote! {
            #[doc = #line]
            pub static #name: rt::Operation = rt::Operation {
                id: #id,
                method: #method,
                base_url: #base_url,
                path_template: #path,
            };
        }
    }

    /// The method on the resource that starts a request: required parameters as arguments.
    fn constructor(&self) -> TokenStream {
        let builder = &self.builder;
        let args = self.positional().into_iter().map(|p| {
            let name = ident(&p.rust);
            let (ty, _) = param_arg(p);
            quote!(#name: #ty)
        });
        let inits = self.all.iter().map(|p| {
            let name = ident(&p.rust);
            if self.is_bound(p) {
                quote!(#name: self.#name.clone(),)
            } else if p.required && !p.ambient {
                let (_, conv) = param_arg(p);
                if conv.to_string() == p.rust {
                    quote!(#name,)
                } else {
                    quote!(#name: #conv,)
                }
            } else {
                quote!(#name: None,)
            }
        });
        let limit = self.is_list().then(|| quote!(limit: None,));
        let method_name = ident(self.op.verb.method_name());
        let docs = doc_opt(
            self.op
                .summary
                .as_deref()
                .or(self.op.description.as_deref()),
            &format!("The `{}` operation.", self.op.id),
        );
        quote! {
            #docs
            pub fn #method_name(&self, #(#args),*) -> #builder {
                #builder {
                    transport: self.transport.clone(),
                    #(#inits)*
                    #limit
                }
            }
        }
    }

    /// The builder struct and its `Debug`, which names the parameters set, never their values.
    fn builder_struct(&self) -> TokenStream {
        let builder = &self.builder;
        let fields = self.all.iter().map(|p| {
            let name = ident(&p.rust);
            let ty = param_field_type(p);
            quote!(#name: #ty,)
        });
        let limit = self.is_list().then(|| quote!(limit: Option<usize>,));
        let required: Vec<&str> = self
            .all
            .iter()
            .filter(|p| p.required && !p.ambient)
            .map(|p| p.wire.as_str())
            .collect();
        let optional: Vec<TokenStream> = self
            .optional()
            .into_iter()
            .map(|p| {
                let name = ident(&p.rust);
                let wire = &p.wire;
                quote!(if self.#name.is_some() { set.push(#wire); })
            })
            .collect();
        let set = if optional.is_empty() {
            quote!(let set: Vec<&str> = vec![#(#required),*];)
        } else {
            quote! {
                let mut set: Vec<&str> = vec![#(#required),*];
                #(#optional)*
            }
        };
        let docs = doc_opt(
            self.op
                .description
                .as_deref()
                .or(self.op.summary.as_deref()),
            &format!("The `{}` operation.", self.op.id),
        );
        let line = self.summary_line();
        let name = &self.op.id;
        quote! {
            #docs
            #[doc = ""]
            #[doc = #line]
            #[derive(Clone)]
            #[must_use = "a request does nothing until `.send()` is awaited"]
            pub struct #builder {
                transport: rt::Transport,
                #(#fields)*
                #limit
            }

            impl std::fmt::Debug for #builder {
                /// Shows which parameters are set, never their values (they may be personal data).
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    #set
                    f.debug_struct(#name).field("parameters_set", &set).finish_non_exhaustive()
                }
            }
        }
    }

    /// One setter per optional (or ambient) parameter, and `limit` for lists.
    fn setters(&self) -> TokenStream {
        let setters = self.optional().into_iter().map(|p| {
            let name = ident(&p.rust);
            let (ty, conv) = param_arg(p);
            let docs = if p.ambient {
                doc(&format!(
                    "{}\n\nDefaults to the account of the client's credentials.",
                    p.doc
                        .clone()
                        .unwrap_or_else(|| format!("The `{}` parameter.", p.wire))
                ))
            } else {
                param_doc(p)
            };
            quote! {
                #docs
                pub fn #name(mut self, #name: #ty) -> Self {
                    self.#name = Some(#conv);
                    self
                }
            }
        });
        let limit = self.is_list().then(|| {
            quote! {
                /// Stops [`Self::into_stream`] after this many items in all (pages are still fetched
                /// whole, `PageSize` at a time).
                pub fn limit(mut self, limit: usize) -> Self {
                    self.limit = Some(limit);
                    self
                }
            }
        });
        quote!(#(#setters)* #limit)
    }

    /// The checks of `to_request`: SIDs are checked once and bound to locals of their type;
    /// the other parameters are checked in place.
    fn checks(&self) -> Vec<TokenStream> {
        let mut stmts = Vec::new();
        for p in &self.all {
            let name = ident(&p.rust);
            let wire = &p.wire;
            let account = quote!(self.transport.account_sid());
            if matches!(p.ty, Ty::Sid { .. }) {
                if p.required && !p.ambient {
                    stmts.push(quote! {
                        let #name = rt::validate::sid_arg(OPERATION.id, #wire, &self.#name)?;
                    });
                } else {
                    stmts.push(quote! {
                        let #name = match &self.#name {
                            Some(value) => Some(rt::validate::sid_arg(OPERATION.id, #wire, value)?),
                            None => None,
                        };
                    });
                }
                if p.ambient {
                    stmts.push(quote! {
                        let #name: &str = match &#name {
                            Some(value) => value.as_str(),
                            None => #account,
                        };
                    });
                }
            } else if p.ambient {
                stmts.push(quote!(let #name: &str = self.#name.as_deref().unwrap_or(#account);));
                stmts.push(validation(p, quote!(#name)));
            } else if p.required {
                stmts.push(validation(p, quote!(&self.#name)));
            } else {
                let v = validation(p, quote!(value));
                if !v.is_empty() {
                    stmts.push(quote!(if let Some(value) = &self.#name { #v }));
                }
            }
        }
        stmts
    }

    /// The path as a `format!` (or a literal when it has no parameter).
    fn path_expr(&self) -> Result<TokenStream> {
        let op = self.op;
        let mut fmt = String::new();
        let mut args = Vec::new();
        for segment in op.path.split('/').skip(1) {
            fmt.push('/');
            let mut rest = segment;
            while let Some(start) = rest.find('{') {
                let end = rest[start..]
                    .find('}')
                    .map(|e| e + start)
                    .ok_or_else(|| fail!("#/paths/{}: unbalanced braces", op.path))?;
                fmt.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
                fmt.push_str("{}");
                let name = &rest[start + 1..end];
                let p = op
                    .path_params
                    .iter()
                    .find(|p| p.wire == name)
                    .ok_or_else(|| fail!("#/paths/{}: undeclared parameter {name}", op.path))?;
                let pname = ident(&p.rust);
                args.push(if p.ambient {
                    quote!(rt::encode_path_param(#pname))
                } else if matches!(p.ty, Ty::Sid { .. }) {
                    quote!(rt::encode_path_param(#pname.as_str()))
                } else {
                    quote!(rt::encode_path_param(&self.#pname))
                });
                rest = &rest[end + 1..];
            }
            fmt.push_str(rest);
        }
        Ok(if args.is_empty() {
            quote!(#fmt.to_owned())
        } else {
            quote!(format!(#fmt, #(#args),*))
        })
    }

    /// `let query = ...;` with every query parameter set.
    fn query(&self) -> TokenStream {
        let stmts: Vec<TokenStream> = self
            .op
            .query_params
            .iter()
            .map(|p| encode_stmt(p, matches!(p.ty, Ty::Sid { .. })))
            .collect();
        if stmts.is_empty() {
            quote!(let query = Vec::new();)
        } else {
            quote! {
                let mut query = Vec::new();
                #(#stmts)*
            }
        }
    }

    /// `let form = ...;`: a form body for a POST, none otherwise.
    fn form(&self) -> Result<TokenStream> {
        let op = self.op;
        if op.method != Method::Post {
            if !op.body_params.is_empty() {
                return Err(fail!(
                    "#/paths/{}: {} with a body is unsupported",
                    op.path,
                    op.method.word()
                ));
            }
            return Ok(quote!(let form = None;));
        }
        let stmts = op
            .body_params
            .iter()
            .map(|p| encode_stmt(p, matches!(p.ty, Ty::Sid { .. })));
        let mutability = (!op.body_params.is_empty()).then(|| quote!(mut));
        Ok(quote! {
            let #mutability form = rt::FormBody::new();
            #(#stmts)*
            let form = Some(form);
        })
    }

    /// `to_request`: check, then build the path, query and form.
    fn to_request(&self) -> Result<TokenStream> {
        let name = op_static(self.op);
        let checks = self.checks();
        let query = self.query();
        let form = self.form()?;
        let path = self.path_expr()?;
        Ok(quote! {
            /// Checks the parameters against the spec (SID patterns, lengths, ranges) and builds
            /// the HTTP request without sending it.
            pub fn to_request(&self) -> Result<rt::Request, rt::Error> {
                const OPERATION: &rt::Operation = &operations::#name;
                #(#checks)*
                #query
                #form
                Ok(rt::Request {
                    operation: OPERATION,
                    path: #path,
                    query,
                    form,
                })
            }
        })
    }

    /// `send_with_answer` (the value with the answer's status and request id), `send` (the
    /// value), and `into_stream` for lists.
    fn send(&self) -> TokenStream {
        let op = self.op;
        let name = op_static(op);
        let constant = (!matches!(op.response, Resp::Empty))
            .then(|| quote!(const OPERATION: &rt::Operation = &operations::#name;));
        let (value, decode, what) = match &op.response {
            Resp::Empty => (
                quote!(()),
                quote!(Ok(rt::Answer::empty(&response))),
                format!("Twilio answers {} with no body", op.status),
            ),
            Resp::Model(model) => {
                let model = ident(model);
                (
                    quote!(#model),
                    quote!(rt::decode_answer(OPERATION, &response)),
                    format!("Twilio answers {} with the resource", op.status),
                )
            }
            Resp::Page { page, .. } => {
                let page = ident(page);
                (
                    quote!(#page),
                    quote!(rt::decode_answer(OPERATION, &response)),
                    "the first page (see [`Self::into_stream`] for every item)".to_owned(),
                )
            }
        };
        let send_docs = format!(" Sends the request; {what}.");
        let answer_docs = format!(
            " Sends the request; {what}, with the answer's HTTP status and `Twilio-Request-Id`."
        );
        let stream = match &op.response {
            Resp::Page { page, item } => {
                let page = ident(page);
                let item = ident(item);
                Some(quote! {
                    /// Every item across pages as a stream, fetching the next page
                    /// (`meta.next_page_url` / `next_page_uri` as returned) only when needed, up to
                    /// [`Self::limit`] items. A parameter error is the stream's first and only item.
                    pub fn into_stream(self) -> rt::ItemStream<#item> {
                        match self.to_request() {
                            Ok(request) => rt::paginate::<#page>(self.transport, request, self.limit),
                            Err(error) => rt::error_stream(error),
                        }
                    }
                })
            }
            _ => None,
        };
        quote! {
            #[doc = #answer_docs]
            pub async fn send_with_answer(self) -> Result<rt::Answer<#value>, rt::Error> {
                #constant
                let request = self.to_request()?;
                let response = self.transport.execute(request).await?;
                #decode
            }

            #[doc = #send_docs]
            pub async fn send(self) -> Result<#value, rt::Error> {
                self.send_with_answer().await.map(rt::Answer::into_value)
            }

            #stream
        }
    }
}

/// Everything one operation emits: its builder (struct, setters, `to_request`, `send`), its
/// constructor on the resource and its `Operation` static.
pub(super) fn emit_op(api: &Api, op: &Op) -> Result<OpCode> {
    let context = OpContext::new(api, op);
    let builder = &context.builder;
    let structure = context.builder_struct();
    let setters = context.setters();
    let to_request = context.to_request()?;
    let send = context.send();
    Ok(OpCode {
        items: quote! {
            #structure

            impl #builder {
                #setters
                #to_request
                #send
            }
        },
        constructor: context.constructor(),
        operation: context.operation_static(),
    })
}
