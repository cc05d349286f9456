//! Where requests go: Twilio's edge/region host rewriting and the base URL override.
//!
//! The rewriting is the one of twilio-python's `get_hostname`: a host `product.twilio.com`
//! becomes `product[.edge].region.twilio.com`, where the region defaults to `us1` when only an
//! edge is set, and an edge or region already present in the host is replaced by the configured
//! one. Unlike twilio-python, the runtime does not read `TWILIO_EDGE` / `TWILIO_REGION` from the
//! environment itself: the caller (the facade's `from_env`) passes them in.

use std::net::IpAddr;

use crate::error::Error;

/// The resolved destination of requests: an optional override of scheme, host, port (and path
/// prefix) for every product, or edge/region rewriting of each operation's spec host.
///
/// ```
/// use trusthub_runtime::Hosts;
///
/// let hosts = Hosts::new(None, Some("sydney"), None)?;
/// assert_eq!(hosts.resolve("https://trusthub.twilio.com"), "https://trusthub.sydney.us1.twilio.com");
///
/// let emulator = Hosts::new(Some("http://127.0.0.1:4010/prefix/"), None, None)?;
/// assert_eq!(emulator.resolve("https://api.twilio.com"), "http://127.0.0.1:4010/prefix");
/// # Ok::<(), trusthub_runtime::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    override_base: Option<Base>,
    edge: Option<String>,
    region: Option<String>,
}

/// `scheme://host[:port]` and a path prefix (empty or `/a/b`, no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    pub(crate) origin: String,
    pub(crate) prefix: String,
}

impl Hosts {
    /// Validates and keeps the settings. Errors ([`ErrorKind::Config`](crate::ErrorKind::Config)):
    /// - an override that is not an absolute `http://` or `https://` URL, or that carries user
    ///   info, a query or a fragment;
    /// - a plain `http://` override to a host that is not loopback (`127.0.0.0/8`, `::1`,
    ///   `localhost`): credentials would cross the network in clear text;
    /// - an edge or region that is not a DNS label (`[A-Za-z0-9-]+`).
    ///
    /// With an override, edge and region are ignored.
    pub fn new(
        base_url_override: Option<&str>,
        edge: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self, Error> {
        let override_base = base_url_override.map(parse_override).transpose()?;
        let edge = edge.map(|e| check_label("edge", e)).transpose()?;
        let region = region.map(|r| check_label("region", r)).transpose()?;
        Ok(Hosts {
            override_base,
            edge,
            region,
        })
    }

    /// `true` when a base URL override is set.
    pub fn has_override(&self) -> bool {
        self.override_base.is_some()
    }

    /// The base (`scheme://host[:port][/prefix]`, no trailing slash) to which an operation whose
    /// spec server is `base_url` is sent; the operation path is appended to it.
    pub fn resolve(&self, base_url: &str) -> String {
        let base = self.base(base_url);
        format!("{}{}", base.origin, base.prefix)
    }

    pub(crate) fn base(&self, base_url: &str) -> Base {
        if let Some(base) = &self.override_base {
            return base.clone();
        }
        let (scheme, rest) = base_url.split_once("://").unwrap_or(("https", base_url));
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (host, port) = split_port(authority);
        let host = self.rewrite_host(host);
        Base {
            origin: format!("{scheme}://{host}{port}"),
            prefix: path.trim_end_matches('/').to_owned(),
        }
    }

    /// twilio-python's `get_hostname`, on the host only.
    fn rewrite_host(&self, host: &str) -> String {
        if self.edge.is_none() && self.region.is_none() {
            return host.to_owned();
        }
        if host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
            return host.to_owned();
        }
        let pieces: Vec<&str> = host.split('.').collect();
        if pieces.len() < 2 {
            return host.to_owned();
        }
        let product = pieces[0];
        let suffix = pieces[pieces.len() - 2..].join(".");
        let (mut edge, mut region) = match pieces.len() {
            4 => (None, Some(pieces[1])),
            5 => (Some(pieces[1]), Some(pieces[2])),
            _ => (None, None),
        };
        if let Some(configured) = self.edge.as_deref() {
            edge = Some(configured);
        }
        if let Some(configured) = self.region.as_deref() {
            region = Some(configured);
        } else if region.is_none() && edge.is_some() {
            region = Some("us1");
        }
        [Some(product), edge, region, Some(suffix.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// `host:port` -> (`host`, `:port`); IPv6 literals keep their brackets.
fn split_port(authority: &str) -> (&str, &str) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => authority.split_at(end + 1),
            None => (authority, ""),
        };
    }
    match authority.rfind(':') {
        Some(i) => authority.split_at(i),
        None => (authority, ""),
    }
}

fn check_label(what: &str, value: &str) -> Result<String, Error> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::config(format!(
            "{what} must be a DNS label such as \"sydney\" or \"ie1\" (letters, digits, '-'), \
             got {} characters that are not; fix the {what} setting",
            value.chars().count()
        )))
    }
}

fn parse_override(value: &str) -> Result<Base, Error> {
    let url = reqwest::Url::parse(value).map_err(|e| {
        Error::config(format!(
            "base_url_override is not an absolute URL ({e}); give one like http://127.0.0.1:4010"
        ))
    })?;
    let scheme = url.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(Error::config(format!(
            "base_url_override must use http:// or https://, not {scheme}://"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "base_url_override must not carry user info (user:password@); credentials are set \
             with TransportBuilder::credentials"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            "base_url_override must not have a query or a fragment; give scheme://host[:port][/prefix]"
                .to_owned(),
        ));
    }
    let host = url.host_str().ok_or_else(|| {
        Error::config("base_url_override has no host; give scheme://host[:port]".to_owned())
    })?;
    if scheme == "http" && !is_loopback(&url) {
        return Err(Error::config(format!(
            "base_url_override http://{host} refused: plain http:// is only allowed to a loopback \
             host (127.0.0.0/8, ::1, localhost) because credentials would cross the network in \
             clear text; use https://"
        )));
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(Base {
        origin: format!("{scheme}://{host}{port}"),
        prefix: url.path().trim_end_matches('/').to_owned(),
    })
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn resolve(edge: Option<&str>, region: Option<&str>, base: &str) -> String {
        Hosts::new(None, edge, region).unwrap().resolve(base)
    }

    #[test]
    fn edge_and_region_table() {
        let th = "https://trusthub.twilio.com";
        assert_eq!(resolve(None, None, th), "https://trusthub.twilio.com");
        assert_eq!(
            resolve(Some("sydney"), None, th),
            "https://trusthub.sydney.us1.twilio.com"
        );
        assert_eq!(
            resolve(None, Some("ie1"), th),
            "https://trusthub.ie1.twilio.com"
        );
        assert_eq!(
            resolve(Some("dublin"), Some("ie1"), th),
            "https://trusthub.dublin.ie1.twilio.com"
        );
        assert_eq!(
            resolve(Some("tokyo"), Some("jp1"), "https://api.twilio.com"),
            "https://api.tokyo.jp1.twilio.com"
        );
    }

    #[test]
    fn configured_values_replace_ones_already_in_the_host() {
        assert_eq!(
            resolve(Some("sydney"), None, "https://api.ie1.twilio.com"),
            "https://api.sydney.ie1.twilio.com"
        );
        assert_eq!(
            resolve(None, Some("au1"), "https://api.dublin.ie1.twilio.com"),
            "https://api.dublin.au1.twilio.com"
        );
    }

    #[test]
    fn override_replaces_every_product_host() {
        let hosts = Hosts::new(Some("http://127.0.0.1:4010"), Some("sydney"), None).unwrap();
        assert!(hosts.has_override());
        assert_eq!(
            hosts.resolve("https://trusthub.twilio.com"),
            "http://127.0.0.1:4010"
        );
        assert_eq!(
            hosts.resolve("https://api.twilio.com"),
            "http://127.0.0.1:4010"
        );
    }

    #[test]
    fn override_with_a_path_prefix_keeps_it() {
        let hosts = Hosts::new(Some("http://127.0.0.1:4010/prefix"), None, None).unwrap();
        assert_eq!(
            hosts.resolve("https://trusthub.twilio.com"),
            "http://127.0.0.1:4010/prefix"
        );
        let hosts = Hosts::new(Some("https://mock.example.com/a/b/"), None, None).unwrap();
        assert_eq!(
            hosts.resolve("https://api.twilio.com"),
            "https://mock.example.com/a/b"
        );
    }

    #[test]
    fn loopback_http_is_allowed_in_every_spelling() {
        for url in [
            "http://127.0.0.1:1",
            "http://127.8.9.10",
            "http://[::1]:8080",
            "http://localhost:3000",
            "http://LOCALHOST",
        ] {
            assert!(Hosts::new(Some(url), None, None).is_ok(), "{url}");
        }
        assert_eq!(
            Hosts::new(Some("http://[::1]:8080"), None, None)
                .unwrap()
                .resolve("https://api.twilio.com"),
            "http://[::1]:8080"
        );
    }

    #[test]
    fn bad_overrides_are_config_errors() {
        for url in [
            "http://10.0.0.5:4010",
            "http://example.com",
            "http://127.0.0.1.example.com",
            "ftp://127.0.0.1",
            "not a url",
            "https://user:pw@example.com",
            "https://example.com/?q=1",
        ] {
            match Hosts::new(Some(url), None, None) {
                Err(error) if error.kind() == ErrorKind::Config => {
                    let message = error.detail().unwrap();
                    assert!(!message.contains("pw"), "{message}");
                }
                other => panic!("{url}: expected Config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn edge_and_region_must_be_labels() {
        assert!(matches!(
            Hosts::new(None, Some("evil.com/"), None),
            Err(error) if error.kind() == ErrorKind::Config
        ));
        assert!(matches!(
            Hosts::new(None, None, Some("")),
            Err(error) if error.kind() == ErrorKind::Config
        ));
    }
}
