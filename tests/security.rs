//! Transport security facts SECURITY.md relies on: proxies named by the environment are ignored
//! unless the client opts in (and then receive a `CONNECT` tunnel, never the request), an
//! explicit proxy gets its own credentials and never the client's, `https://` always means TLS
//! (no fall back to clear text, credentials never sent in clear), and plain `http://` is refused
//! for hosts that are not loopback.
//!
//! This binary changes the process environment (proxy variables), so it holds only tests that
//! either set the variables themselves or do not depend on them.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use support::{Canned, CaptureServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use trusthub::api::runtime::{ErrorKind, TransportErrorKind};
use trusthub::Client;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "security-test-token";
const POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";

/// Held by every test of this binary: one of them changes the environment, which no other
/// thread may read or write at the same time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn client(base_url: &str) -> Client {
    Client::builder()
        .account_sid(ACCOUNT.parse().unwrap())
        .auth_token(TOKEN)
        .base_url(base_url)
        .timeout(Duration::from_secs(10))
        .no_retries()
        .build()
        .unwrap()
}

#[tokio::test]
async fn proxies_named_by_the_environment_are_ignored() {
    let _serial = SERIAL.lock().await;
    let target = CaptureServer::start().await;
    let proxy = CaptureServer::start().await;
    target.answer(Canned::json(200, "{}"));
    proxy.answer(Canned::json(200, "{}"));
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        // SAFETY: every test of this binary holds SERIAL for its whole run, so no other thread
        // reads or writes the environment meanwhile.
        unsafe { std::env::set_var(name, &proxy.base_url) };
    }
    for name in ["NO_PROXY", "no_proxy"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }
    // Control: an HTTP client that reads the environment does go through the proxy, so the
    // variables are in effect.
    let plain = reqwest::Client::new();
    plain
        .get(format!("{}/control", target.base_url))
        .send()
        .await
        .unwrap();
    let through_proxy = proxy.requests();
    assert_eq!(
        through_proxy.len(),
        1,
        "the control request did not use the proxy"
    );
    // The client: straight to the configured host, the proxy sees nothing more.
    client(&target.base_url)
        .policies()
        .fetch(POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        proxy.requests().len(),
        1,
        "the client went through the proxy"
    );
    let direct = target.requests();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].target, format!("/v1/Policies/{POLICY}"));
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        // SAFETY: this test still holds SERIAL (see above).
        unsafe { std::env::remove_var(name) };
    }
}

#[tokio::test]
async fn https_is_tls_or_nothing_and_credentials_never_go_in_clear_text() {
    let _serial = SERIAL.lock().await;
    // A loopback server that answers plain HTTP to whatever comes, and keeps what came.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = vec![0u8; 4096];
        let n = socket.read(&mut received).await.unwrap_or(0);
        received.truncate(n);
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            .await;
        received
    });
    let error = client(&format!("https://127.0.0.1:{port}"))
        .policies()
        .fetch(POLICY)
        .send()
        .await
        .unwrap_err();
    // The TLS handshake fails: nothing was sent over HTTP.
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    let received = server.await.unwrap();
    assert_eq!(received.first(), Some(&0x16), "not a TLS handshake record");
    let text = String::from_utf8_lossy(&received);
    assert!(
        !text.contains("Authorization") && !text.contains("/v1/Policies"),
        "a request was sent in clear text"
    );
}

#[test]
fn plain_http_is_refused_for_hosts_that_are_not_loopback() {
    let _serial = SERIAL.blocking_lock();
    for url in [
        "http://10.0.0.5:4010",
        "http://mock.example.com",
        "http://127.0.0.1.example.com",
    ] {
        let error = Client::builder()
            .account_sid(ACCOUNT.parse().unwrap())
            .auth_token(TOKEN)
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("plain http:// is only allowed to a loopback host"),
            "{url}: {error}"
        );
    }
    for url in [
        "http://127.0.0.1:4010",
        "http://[::1]:4010",
        "http://localhost:4010",
    ] {
        assert!(
            Client::builder()
                .account_sid(ACCOUNT.parse().unwrap())
                .auth_token(TOKEN)
                .base_url(url)
                .build()
                .is_ok(),
            "{url}"
        );
    }
}

/// The proxy variables reqwest reads, both spellings.
const PROXY_VARIABLES: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Sets the proxy variables (the others removed) for as long as it lives, and removes them all
/// when dropped, even when an assertion fails. Only made while holding SERIAL, and dropped
/// before it is released (declared after the lock).
struct ProxyEnvironment;

impl ProxyEnvironment {
    fn set(values: &[(&str, &str)]) -> Self {
        for name in PROXY_VARIABLES {
            // SAFETY: the caller holds SERIAL, so no other thread of this binary reads or writes
            // the environment meanwhile.
            unsafe { std::env::remove_var(name) };
        }
        for (name, value) in values {
            // SAFETY: as above.
            unsafe { std::env::set_var(name, value) };
        }
        ProxyEnvironment
    }
}

impl Drop for ProxyEnvironment {
    fn drop(&mut self) {
        for name in PROXY_VARIABLES {
            // SAFETY: dropped while SERIAL is still held (see the type's docs).
            unsafe { std::env::remove_var(name) };
        }
    }
}

/// A proxy on 127.0.0.1 that refuses every tunnel: it keeps the head (request line and headers)
/// of each request, answers `403 Forbidden` and closes. It stops when dropped.
struct RefusingProxy {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RefusingProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&heads);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
            }
        });
        RefusingProxy { url, heads, task }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// The request lines received, in order.
    fn request_lines(&self) -> Vec<String> {
        self.heads()
            .iter()
            .map(|head| head.lines().next().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for RefusingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client with the test's credentials, no retries, and short timeouts: every call of these
/// tests fails at the proxy or before.
fn proxied_client(
    configure: impl FnOnce(trusthub::ClientBuilder) -> trusthub::ClientBuilder,
) -> Client {
    configure(
        Client::builder()
            .account_sid(ACCOUNT.parse().unwrap())
            .auth_token(TOKEN)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .no_retries(),
    )
    .build()
    .unwrap()
}

/// The client's own `Authorization` value: it must never reach a proxy.
fn client_authorization() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
}

/// Checks that a call refused by the proxy failed as a connection failure (nothing was sent to
/// the destination) and that its error shows no secret.
fn assert_refused_by_the_proxy(error: &trusthub::api::runtime::Error, secrets: &[&str]) {
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    let shown = format!("{error} {error:?}");
    for secret in secrets.iter().chain([&TOKEN]) {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn an_environment_proxy_opted_into_receives_a_tunnel_request_and_twilio_nothing() {
    let _serial = SERIAL.lock().await;
    let proxy = RefusingProxy::start().await;
    let _environment = ProxyEnvironment::set(&[
        ("HTTPS_PROXY", &proxy.url),
        ("https_proxy", &proxy.url),
        ("HTTP_PROXY", &proxy.url),
        ("http_proxy", &proxy.url),
    ]);

    // First a host that resolves nowhere (RFC 6761's .invalid): had the proxy been ignored, the
    // request would have gone to no one. Only once the proxy is shown to be in the path does a
    // request name Twilio's host.
    let error = proxied_client(|b| {
        b.env_proxy(true)
            .base_url("https://trusthub.twilio.invalid")
    })
    .policies()
    .fetch(POLICY)
    .send()
    .await
    .unwrap_err();
    assert_refused_by_the_proxy(&error, &[]);
    assert_eq!(
        proxy.request_lines(),
        ["CONNECT trusthub.twilio.invalid:443 HTTP/1.1"],
        "the environment's proxy was not used"
    );

    // Twilio's own host: the proxy is asked for a tunnel, refuses it, and the call fails
    // without a byte for Twilio (the request would only have gone inside the tunnel).
    let error = proxied_client(|b| b.env_proxy(true))
        .policies()
        .fetch(POLICY)
        .send()
        .await
        .unwrap_err();
    assert_refused_by_the_proxy(&error, &[]);
    assert_eq!(
        proxy.request_lines(),
        [
            "CONNECT trusthub.twilio.invalid:443 HTTP/1.1",
            "CONNECT trusthub.twilio.com:443 HTTP/1.1",
        ]
    );
    // A tunnel request names the host and port only: not the path, not the credentials.
    for head in proxy.heads() {
        assert!(!head.contains("/v1/Policies"), "{head}");
        assert!(!head.contains(&client_authorization()), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("\nauthorization:"),
            "{head}"
        );
    }

    // Without the opt-in the same environment is ignored: the proxy sees nothing more (the
    // request goes straight to the .invalid host, which does not resolve).
    let error = proxied_client(|b| b.base_url("https://trusthub.twilio.invalid"))
        .policies()
        .fetch(POLICY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        proxy.request_lines().len(),
        2,
        "a client without env_proxy(true) used the environment's proxy"
    );
}

#[tokio::test]
async fn an_explicit_proxy_gets_its_own_basic_auth_and_wins_over_the_environment() {
    let _serial = SERIAL.lock().await;
    let explicit = RefusingProxy::start().await;
    let from_environment = RefusingProxy::start().await;
    let _environment = ProxyEnvironment::set(&[
        ("HTTPS_PROXY", &from_environment.url),
        ("https_proxy", &from_environment.url),
        ("ALL_PROXY", &from_environment.url),
    ]);
    // User info percent-encoded in the URL, decoded for Basic auth.
    let with_credentials = explicit
        .url
        .replace("http://", "http://proxy-user:proxy%20s3cret@");
    let error = proxied_client(|b| {
        b.env_proxy(true)
            .proxy(with_credentials.as_str())
            .base_url("https://trusthub.twilio.invalid")
    })
    .policies()
    .fetch(POLICY)
    .send()
    .await
    .unwrap_err();
    assert_refused_by_the_proxy(&error, &["s3cret", "proxy-user"]);
    assert_eq!(
        explicit.request_lines(),
        ["CONNECT trusthub.twilio.invalid:443 HTTP/1.1"]
    );
    assert!(
        from_environment.heads().is_empty(),
        "the environment's proxy was used despite an explicit one"
    );
    let head = &explicit.heads()[0];
    let expected = format!(
        "proxy-authorization: basic {}",
        base64::engine::general_purpose::STANDARD.encode("proxy-user:proxy s3cret")
    );
    assert!(
        head.to_ascii_lowercase()
            .contains(&expected.to_ascii_lowercase()),
        "{head}"
    );
    assert!(!head.contains(&client_authorization()), "{head}");

    // A loopback base URL (the emulator) is this machine: reached directly, never proxied.
    let target = CaptureServer::start().await;
    target.answer(Canned::json(200, "{}"));
    proxied_client(|b| {
        b.env_proxy(true)
            .proxy(with_credentials.as_str())
            .base_url(&target.base_url)
    })
    .policies()
    .fetch(POLICY)
    .send()
    .await
    .unwrap();
    assert_eq!(target.requests().len(), 1);
    assert_eq!(
        explicit.heads().len(),
        1,
        "a loopback request went to the proxy"
    );
    assert!(from_environment.heads().is_empty());
}
