//! The facade client: configuration from the environment, credentials on the wire, the
//! User-Agent, hosts (edge, region, base URL) and the default retry policy.

use crate::support;

use std::collections::HashMap;

use base64::Engine as _;
use support::{Canned, CaptureServer};
use trusthub::{Client, ClientBuilder};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SK0123456789abcdef0123456789abcdef";

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn environment_errors_name_the_variable_and_what_to_do() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[], "TWILIO_ACCOUNT_SID is not set"),
        (&[("TWILIO_ACCOUNT_SID", "AC123")], "TWILIO_ACCOUNT_SID"),
        (
            &[("TWILIO_ACCOUNT_SID", ACCOUNT)],
            "no credentials: set TWILIO_AUTH_TOKEN",
        ),
        (
            &[("TWILIO_ACCOUNT_SID", ACCOUNT), ("TWILIO_API_KEY", KEY)],
            "TWILIO_API_SECRET is not",
        ),
        (
            &[
                ("TWILIO_ACCOUNT_SID", ACCOUNT),
                ("TWILIO_API_KEY", "XX1"),
                ("TWILIO_API_SECRET", "s"),
            ],
            "TWILIO_API_KEY",
        ),
    ];
    for (env, expected) in cases {
        let error = ClientBuilder::from_lookup(lookup(env))
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{env:?}: {error}");
    }
}

#[test]
fn plain_http_is_refused_unless_the_host_is_loopback() {
    let env = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", "t"),
        ("TWILIO_BASE_URL", "http://mock.example.com:4010"),
    ];
    let error = ClientBuilder::from_lookup(lookup(&env))
        .unwrap()
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("http"), "{error}");
    let env = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", "t"),
        ("TWILIO_BASE_URL", "http://127.0.0.1:4010"),
    ];
    assert!(ClientBuilder::from_lookup(lookup(&env))
        .unwrap()
        .build()
        .is_ok());
}

#[test]
fn edge_and_region_rewrite_hosts_as_twilio_documents() {
    let client = |edge: Option<&str>, region: Option<&str>| {
        let mut env = vec![("TWILIO_ACCOUNT_SID", ACCOUNT), ("TWILIO_AUTH_TOKEN", "t")];
        if let Some(e) = edge {
            env.push(("TWILIO_EDGE", e));
        }
        if let Some(r) = region {
            env.push(("TWILIO_REGION", r));
        }
        ClientBuilder::from_lookup(lookup(&env))
            .unwrap()
            .build()
            .unwrap()
    };
    let host = |c: &Client, base: &str| c.transport().hosts().resolve(base);
    let cases = [
        (None, None, "https://trusthub.twilio.com"),
        (
            Some("sydney"),
            None,
            "https://trusthub.sydney.us1.twilio.com",
        ),
        (None, Some("au1"), "https://trusthub.au1.twilio.com"),
        (
            Some("sydney"),
            Some("au1"),
            "https://trusthub.sydney.au1.twilio.com",
        ),
    ];
    for (edge, region, expected) in cases {
        assert_eq!(
            host(&client(edge, region), "https://trusthub.twilio.com"),
            expected
        );
    }
    assert_eq!(
        host(
            &client(Some("dublin"), Some("ie1")),
            "https://api.twilio.com"
        ),
        "https://api.dublin.ie1.twilio.com"
    );
}

#[tokio::test]
async fn auth_token_and_api_key_go_out_as_basic_auth_with_our_user_agent() {
    let server = CaptureServer::start().await;
    server.answer(Canned::json(200, "{}"));
    server.answer(Canned::json(200, "{}"));
    let env = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", "token-1"),
        ("TWILIO_BASE_URL", server.base_url.as_str()),
    ];
    let by_token = ClientBuilder::from_lookup(lookup(&env))
        .unwrap()
        .user_agent_extension("acme-onboarding/2.1")
        .build()
        .unwrap();
    let env = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_API_KEY", KEY),
        ("TWILIO_API_SECRET", "secret-2"),
        ("TWILIO_BASE_URL", server.base_url.as_str()),
    ];
    let by_key = ClientBuilder::from_lookup(lookup(&env))
        .unwrap()
        .build()
        .unwrap();
    by_token
        .policies()
        .fetch("RNdfbf3fae0e1107f8aded0e7cead80bf5")
        .send()
        .await
        .unwrap();
    by_key
        .addresses()
        .fetch("AD0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests[0].header("authorization").unwrap(),
        basic(ACCOUNT, "token-1")
    );
    assert_eq!(
        requests[1].header("authorization").unwrap(),
        basic(KEY, "secret-2")
    );
    // The 2010 path names the account, not the key.
    assert_eq!(
        requests[1].target,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Addresses/AD0123456789abcdef0123456789abcdef.json")
    );
    let ua = requests[0].header("user-agent").unwrap();
    let prefix = format!(
        "trusthub/{} ({} {}) rust/",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    assert!(ua.starts_with(&prefix), "{ua}");
    assert!(ua.ends_with(" acme-onboarding/2.1"), "{ua}");
    for client in [format!("{by_token:?}"), format!("{by_key:?}")] {
        assert!(
            !client.contains("token-1") && !client.contains("secret-2"),
            "{client}"
        );
    }
}

#[tokio::test]
async fn default_retries_honor_429_and_never_repeat_a_post_after_a_502() {
    let server = CaptureServer::start().await;
    let client = Client::builder()
        .account_sid(ACCOUNT.parse().unwrap())
        .auth_token("t")
        .base_url(server.base_url.clone())
        .build()
        .unwrap();
    server.answer(
        Canned::json(
            429,
            r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
        )
        .header("Retry-After", "0"),
    );
    server.answer(Canned::json(
        201,
        r#"{"sid":"BU0123456789abcdef0123456789abcdef"}"#,
    ));
    let profile = client
        .customer_profiles()
        .create(
            "Acme",
            "ops@acme.example",
            "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile.sid.as_ref().map(|sid| sid.as_str()),
        Some("BU0123456789abcdef0123456789abcdef")
    );
    assert_eq!(server.requests().len(), 2, "a 429 is retried");
    server
        .answer(Canned::json(502, "<html>bad gateway</html>").header("Content-Type", "text/html"));
    let error = client
        .customer_profiles()
        .create(
            "Acme",
            "ops@acme.example",
            "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert_eq!(
        server.requests().len(),
        3,
        "a POST that may have been processed is not repeated"
    );
}
