//! What the generated code describes: an API operation (static, one per `operationId`) and one
//! call of it (a [`Request`]).

use std::fmt;

use crate::form::{encode_pairs, percent_encode, FormBody};

/// The HTTP methods the Trust Hub and 2010 Addresses APIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`: fetch and list; idempotent.
    Get,
    /// `POST`: create and update; NOT idempotent (a repeated create makes a duplicate).
    Post,
    /// `DELETE`: idempotent.
    Delete,
}

impl HttpMethod {
    /// The method's name on the wire: `GET`, `POST`, `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// `true` for `GET` and `DELETE`: sending them twice has the effect of sending them once,
    /// so the transport may retry them after errors where the server may have processed them.
    pub fn is_idempotent(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Delete)
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One operation of the OpenAPI spec, emitted by the generator as a `static`.
///
/// ```
/// use trusthub_runtime::{HttpMethod, Operation};
///
/// static FETCH_CUSTOMER_PROFILE: Operation = Operation {
///     id: "FetchCustomerProfile",
///     method: HttpMethod::Get,
///     base_url: "https://trusthub.twilio.com",
///     path_template: "/v1/CustomerProfiles/{Sid}",
/// };
/// assert!(FETCH_CUSTOMER_PROFILE.method.is_idempotent());
/// ```
#[derive(Debug)]
pub struct Operation {
    /// The spec's `operationId`, e.g. `CreateCustomerProfile`. Used in errors and traces.
    pub id: &'static str,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The operation's server from the spec (`https://trusthub.twilio.com`,
    /// `https://api.twilio.com`), before edge/region rewriting or an override.
    pub base_url: &'static str,
    /// The path with `{Param}` placeholders, e.g. `/v1/CustomerProfiles/{Sid}`. This, never the
    /// filled path, is what traces show.
    pub path_template: &'static str,
}

/// One call of an [`Operation`], built by generated code and sent by
/// [`Transport::execute`](crate::Transport::execute).
///
/// `Debug` shows the operation, the path template and the query and form keys, never values.
pub struct Request {
    /// The operation called.
    pub operation: &'static Operation,
    /// `path_template` with its parameters substituted, each through [`encode_path_param`].
    pub path: String,
    /// Query parameters in order; a repeated key is sent once per entry.
    pub query: Vec<(&'static str, String)>,
    /// The form body, `Some` for a `POST` with parameters.
    pub form: Option<FormBody>,
}

impl Request {
    /// A request for `operation` at `path` with no query and no body.
    pub fn new(operation: &'static Operation, path: impl Into<String>) -> Self {
        Request {
            operation,
            path: path.into(),
            query: Vec::new(),
            form: None,
        }
    }

    /// The encoded query string (without `?`), empty when there is no query parameter.
    ///
    /// ```
    /// use trusthub_runtime::{HttpMethod, Operation, Request};
    /// static LIST: Operation = Operation {
    ///     id: "ListPolicies", method: HttpMethod::Get,
    ///     base_url: "https://trusthub.twilio.com", path_template: "/v1/Policies",
    /// };
    /// let mut request = Request::new(&LIST, "/v1/Policies");
    /// request.query.push(("PageSize", "20".to_owned()));
    /// request.query.push(("FriendlyName", "a b".to_owned()));
    /// assert_eq!(request.encoded_query(), "PageSize=20&FriendlyName=a%20b");
    /// ```
    pub fn encoded_query(&self) -> String {
        encode_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())))
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation.id)
            .field("method", &self.operation.method)
            .field("path_template", &self.operation.path_template)
            .field(
                "query_keys",
                &self.query.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .field("form", &self.form)
            .finish()
    }
}

/// Percent-encodes one path parameter: every byte outside `[A-Za-z0-9-._~]` becomes `%XX`, so a
/// `/` in a value cannot change the path.
///
/// ```
/// assert_eq!(trusthub_runtime::encode_path_param("BU/1 2"), "BU%2F1%202");
/// ```
pub fn encode_path_param(value: &str) -> String {
    percent_encode(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    static CREATE: Operation = Operation {
        id: "CreateEndUser",
        method: HttpMethod::Post,
        base_url: "https://trusthub.twilio.com",
        path_template: "/v1/EndUsers",
    };

    #[test]
    fn methods() {
        assert_eq!(HttpMethod::Get.as_str(), "GET");
        assert_eq!(HttpMethod::Post.as_str(), "POST");
        assert_eq!(HttpMethod::Delete.as_str(), "DELETE");
        assert!(HttpMethod::Get.is_idempotent());
        assert!(HttpMethod::Delete.is_idempotent());
        assert!(!HttpMethod::Post.is_idempotent());
    }

    #[test]
    fn path_params_cannot_escape_their_segment() {
        assert_eq!(encode_path_param("../x?y#z"), "..%2Fx%3Fy%23z");
        assert_eq!(
            encode_path_param("BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
    }

    #[test]
    fn request_debug_hides_values() {
        let mut form = FormBody::new();
        form.push("Email", "jane@example.com");
        let request = Request {
            operation: &CREATE,
            path: "/v1/EndUsers".to_owned(),
            query: vec![("FriendlyName", "Jane Doe".to_owned())],
            form: Some(form),
        };
        let debug = format!("{request:?}");
        assert!(debug.contains("CreateEndUser") && debug.contains("FriendlyName"));
        assert!(
            !debug.contains("Jane Doe") && !debug.contains("jane@"),
            "{debug}"
        );
    }
}
