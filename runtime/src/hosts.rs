//! Where requests go: Twilio's edge/region host rewriting and the base URL override.
//!
//! The rewriting is the one of twilio-python's `get_hostname`: a host `product.twilio.com`
//! becomes `product[.edge].region.twilio.com`, where the region defaults to `us1` when only an
//! edge is set, and an edge or region already present in the host is replaced by the configured
//! one. Unlike twilio-python, the runtime does not read `TWILIO_EDGE` / `TWILIO_REGION` from the
//! environment itself: the caller (the facade's `from_env`) passes them in.

use url::{Host, Url};

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

    /// `true` when a base URL override is set and names this machine (`127.0.0.0/8`, `::1`,
    /// `localhost`): the transport sends its requests there directly, never through a proxy.
    pub(crate) fn override_is_loopback(&self) -> bool {
        self.override_base
            .as_ref()
            .and_then(|base| Url::parse(&base.origin).ok())
            .is_some_and(|url| is_loopback(&url))
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
        // The spec's servers are absolute URLs; one that is not is kept as it is, and the URL it
        // forms with a path is refused as invalid when the request is sent.
        let Ok(url) = Url::parse(base_url) else {
            return Base {
                origin: base_url.trim_end_matches('/').to_owned(),
                prefix: String::new(),
            };
        };
        let host = match url.host() {
            Some(Host::Domain(domain)) => self.rewrite_host(domain),
            // IP literals (IPv6 in brackets) are not Twilio host names: never rewritten.
            Some(host) => host.to_string(),
            None => String::new(),
        };
        Base {
            origin: origin(url.scheme(), &host, url.port()),
            prefix: url.path().trim_end_matches('/').to_owned(),
        }
    }

    /// twilio-python's `get_hostname`, on a domain name.
    fn rewrite_host(&self, host: &str) -> String {
        if self.edge.is_none() && self.region.is_none() {
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

/// `scheme://host[:port]`; `host` as the URL parser serialises it (IPv6 in brackets, an
/// international domain name in its ASCII form); `port` is `None` for the scheme's default.
fn origin(scheme: &str, host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
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
    let url = Url::parse(value).map_err(|e| {
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
    // An http(s) URL always has a host: the parser refuses an empty one.
    let host = url.host().map(|h| h.to_string()).unwrap_or_default();
    if scheme == "http" && !is_loopback(&url) {
        return Err(Error::config(format!(
            "base_url_override http://{host} refused: plain http:// is only allowed to a loopback \
             host (127.0.0.0/8, ::1, localhost) because credentials would cross the network in \
             clear text; use https://"
        )));
    }
    Ok(Base {
        origin: origin(scheme, &host, url.port()),
        prefix: url.path().trim_end_matches('/').to_owned(),
    })
}

/// `127.0.0.0/8`, `::1` (also as an IPv4-mapped `::ffff:127.x.y.z`) or `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
        }
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
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
    fn overrides_with_ipv6_literals_ports_and_international_names() {
        let base = |url: &str| {
            Hosts::new(Some(url), None, None)
                .unwrap()
                .base("https://api.twilio.com")
        };
        let ipv6 = base("http://[::1]:8080/x");
        assert_eq!(ipv6.origin, "http://[::1]:8080");
        assert_eq!(ipv6.prefix, "/x");
        // IPv4-mapped loopback is loopback too; the parser writes it in its canonical form.
        assert_eq!(
            base("http://[::ffff:127.0.0.1]:4010").origin,
            "http://[::ffff:7f00:1]:4010"
        );
        // An international domain name goes out in its ASCII (punycode) form.
        let idn = base("https://bücher.example:8443/v/");
        assert_eq!(idn.origin, "https://xn--bcher-kva.example:8443");
        assert_eq!(idn.prefix, "/v");
        // The scheme's default port is dropped; any other is kept.
        assert_eq!(
            base("https://mock.example.com:443").origin,
            "https://mock.example.com"
        );
        assert_eq!(base("http://localhost:80/").origin, "http://localhost");
        assert_eq!(
            base("https://mock.example.com:4443").origin,
            "https://mock.example.com:4443"
        );
        assert!(Hosts::new(Some("http://[::1]:8080/x"), None, None)
            .unwrap()
            .override_is_loopback());
        assert!(!Hosts::new(Some("https://[2001:db8::1]:8443"), None, None)
            .unwrap()
            .override_is_loopback());
        assert!(!Hosts::new(None, None, None).unwrap().override_is_loopback());
    }

    #[test]
    fn spec_hosts_that_are_ip_literals_or_carry_ports_are_not_rewritten() {
        let hosts = Hosts::new(None, Some("sydney"), None).unwrap();
        assert_eq!(
            hosts.resolve("https://[::1]:8443/p"),
            "https://[::1]:8443/p"
        );
        assert_eq!(hosts.resolve("https://10.1.2.3"), "https://10.1.2.3");
        assert_eq!(
            hosts.resolve("https://trusthub.twilio.com:8443"),
            "https://trusthub.sydney.us1.twilio.com:8443"
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
            "http://[::2]:8080/x",
            "http://[::1:8080/x",
            "http://127.0.0.1:65536",
            "https://bad_host name.example",
            "ws://127.0.0.1:4010",
            "file:///tmp/socket",
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
