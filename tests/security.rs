//! Transport security facts SECURITY.md relies on: proxies named by the environment are ignored,
//! `https://` always means TLS (no fall back to clear text, credentials never sent in clear), and
//! plain `http://` is refused for hosts that are not loopback.
//!
//! This binary changes the process environment (proxy variables), so it holds only tests that
//! either set the variables themselves or do not depend on them.

mod support;

use std::time::Duration;

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
