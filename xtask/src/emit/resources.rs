//! The resource tree: one type per tag, reached from the client or from a parent resource.

use proc_macro2::TokenStream;
use quote::quote;

use super::builders::OpCode;
use super::params::{param_arg, param_field_type};
use super::{ident, operations_count};
use crate::ir::{Api, Group};

/// The resource type of group `gi`: its constructors of requests, its accessors of child
/// resources, and, for a top-level resource, its accessor on the client.
pub(super) fn emit_resource(api: &Api, gi: usize, op_codes: &[OpCode]) -> TokenStream {
    let g = &api.groups[gi];
    let ty = ident(&g.type_name);
    let ctors = g.ops.iter().map(|&oi| &op_codes[oi].constructor);
    let children = api
        .groups
        .iter()
        .filter(|c| c.parent == Some(gi))
        .map(child_accessor);
    let bound_fields = g.bound.iter().map(|b| {
        let n = ident(&b.rust);
        let ty = param_field_type(b);
        quote!(#n: #ty,)
    });
    let docs = format!(
        " Operations on `{}` ({}). Get it from {}.",
        g.collection_path,
        operations_count(g.ops.len()),
        match g.parent {
            None => format!("[`crate::Client::{}`]", g.accessor),
            Some(p) => format!("[`{}::{}`]", api.groups[p].type_name, g.accessor),
        }
    );
    let debug_name = &g.type_name;
    let on_client = g.parent.is_none().then(|| client_accessor(g));
    quote! {
        #[doc = #docs]
        #[derive(Clone)]
        pub struct #ty {
            transport: rt::Transport,
            #(#bound_fields)*
        }

        impl std::fmt::Debug for #ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#debug_name).finish_non_exhaustive()
            }
        }

        impl #ty {
            #(#ctors)*
            #(#children)*
        }

        #on_client
    }
}

/// The accessor of a child resource on its parent: the child's bound path parameters are its
/// arguments.
fn child_accessor(child: &Group) -> TokenStream {
    let ty = ident(&child.type_name);
    let accessor = ident(&child.accessor);
    let args = child.bound.iter().map(|b| {
        let n = ident(&b.rust);
        let (ty, _) = param_arg(b);
        quote!(#n: #ty)
    });
    let inits = child.bound.iter().map(|b| {
        let n = ident(&b.rust);
        let (_, conv) = param_arg(b);
        quote!(#n: #conv,)
    });
    let docs = format!(" The `{}` resource of one item.", child.collection_path);
    quote! {
        #[doc = #docs]
        pub fn #accessor(&self, #(#args),*) -> #ty {
            #ty { transport: self.transport.clone(), #(#inits)* }
        }
    }
}

/// The accessor of a top-level resource on the client.
fn client_accessor(g: &Group) -> TokenStream {
    let ty = ident(&g.type_name);
    let accessor = ident(&g.accessor);
    let docs = format!(" Operations on `{}`.", g.collection_path);
    quote! {
        impl crate::Client {
            #[doc = #docs]
            pub fn #accessor(&self) -> #ty {
                #ty { transport: self.transport().clone() }
            }
        }
    }
}
