//! Signed status callbacks.
//!
//! Every status change of a bundle with a `StatusCallback` POSTs a form (`AccountSid`, `BundleSid`,
//! `Status`, and `FailureReason` when rejected) to that URL with an `X-Twilio-Signature` header:
//! base64(HMAC-SHA1(auth token, full URL + each parameter's key and value concatenated, sorted by key)).
//! One worker delivers callbacks in the order the changes happened. Only loopback hosts (`localhost`,
//! 127.0.0.0/8, `::1`) are called; other hosts are logged and counted as skipped, never contacted.

use std::net::IpAddr;
use std::sync::Weak;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::state::{lock, Inner};
use crate::wire;

/// One callback to deliver.
pub(crate) struct CallbackJob {
    pub url: String,
    pub params: Vec<(String, String)>,
}

/// Twilio's request signature: base64(HMAC-SHA1(auth_token, url + sorted key/value pairs)).
pub(crate) fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = String::from(url);
    for (key, value) in sorted {
        data.push_str(key);
        data.push_str(value);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    match parsed.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false),
        None => false,
    }
}

/// The host of a URL, for logs (URLs of callbacks are not personal data, but their query may hold
/// tokens, so only the host is logged).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| String::from("<unparsable URL>"))
}

/// Starts the delivery worker. It holds the application weakly, so it never keeps a stopped emulator
/// alive.
pub(crate) fn spawn_worker(
    app: Weak<Inner>,
    mut jobs: mpsc::UnboundedReceiver<CallbackJob>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build();
        let client = match client {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "status callbacks disabled: cannot build an HTTP client");
                return;
            }
        };
        while let Some(job) = jobs.recv().await {
            let Some(app) = app.upgrade() else { break };
            deliver(&client, &app, job).await;
        }
    })
}

async fn deliver(client: &reqwest::Client, app: &Inner, job: CallbackJob) {
    if !is_loopback(&job.url) {
        tracing::info!(
            host = %host_of(&job.url),
            "status callback not sent: the emulator only calls loopback hosts"
        );
        lock(&app.state).counters.status_callbacks_skipped += 1;
        return;
    }
    let signature = signature(&app.auth_token, &job.url, &job.params);
    let body = wire::encode_pairs(job.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let outcome = client
        .post(&job.url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header("X-Twilio-Signature", signature)
        .body(body)
        .send()
        .await;
    let delivered = match outcome {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::warn!(host = %host_of(&job.url), status = %response.status(), "status callback refused");
            false
        }
        Err(error) => {
            tracing::warn!(host = %host_of(&job.url), error = %error.without_url(), "status callback failed");
            false
        }
    };
    let mut state = lock(&app.state);
    if delivered {
        state.counters.status_callbacks_sent += 1;
    } else {
        state.counters.status_callbacks_failed += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_documented_example_signature() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut reversed = params.clone();
        reversed.reverse();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let expected = signature("12345", url, &params);
        assert_eq!(expected, signature("12345", url, &reversed));
        assert_eq!(expected, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert_ne!(expected, signature("12346", url, &params));
    }

    #[test]
    fn only_loopback_hosts_are_called() {
        assert!(is_loopback("http://127.0.0.1:9999/cb"));
        assert!(is_loopback("http://localhost/cb"));
        assert!(is_loopback("http://[::1]:80/cb"));
        assert!(!is_loopback("http://www.example.com/cb"));
        assert!(!is_loopback("http://10.0.0.1/cb"));
        assert!(!is_loopback("not a url"));
    }
}
