//! The generator's snapshots (`xtask/snapshots/*.rs`) compile against the runtime and build the
//! requests their specs describe: the snapshot test in xtask pins their text, this one that the
//! text is a working client.

#![allow(dead_code, clippy::needless_borrows_for_generic_args)]

pub use trusthub_runtime as runtime;
use trusthub_runtime::{Credentials, Transport};

/// What a generated module expects of its crate root.
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
}

impl Client {
    fn transport(&self) -> &Transport {
        &self.transport
    }
}

#[rustfmt::skip]
#[path = "../snapshots/flat_page_and_ambient_account.rs"]
mod flat_page_and_ambient_account;
#[rustfmt::skip]
#[path = "../snapshots/models.rs"]
mod models;
#[rustfmt::skip]
#[path = "../snapshots/nested_resources_and_pages.rs"]
mod nested_resources_and_pages;
#[rustfmt::skip]
#[path = "../snapshots/sid_kinds.rs"]
mod sid_kinds;

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WIDGET: &str = "IT0123456789abcdef0123456789abcdef";

fn client() -> Client {
    let transport = Transport::builder()
        .credentials(Credentials::auth_token(ACCOUNT, "snapshot-token"))
        .build()
        .expect("a transport");
    Client { transport }
}

#[test]
fn a_nested_resource_binds_its_parent_and_checks_sids_before_sending() {
    let client = client();
    let request = client
        .widgets()
        .parts(WIDGET)
        .create("BV0123456789abcdef0123456789abcdef")
        .to_request()
        .unwrap();
    assert_eq!(request.path, format!("/v1/Widgets/{WIDGET}/Parts"));
    assert_eq!(
        request.form.unwrap().encode(),
        "ObjectSid=BV0123456789abcdef0123456789abcdef"
    );
    let error = client
        .widgets()
        .parts("IT123")
        .list()
        .to_request()
        .unwrap_err();
    assert!(error.to_string().contains("WidgetSid"), "{error}");
}

#[test]
fn optional_parameters_go_to_the_query_and_ranges_are_checked() {
    let client = client();
    let request = client
        .widgets()
        .list()
        .friendly_name("Acme")
        .page_size(20)
        .to_request()
        .unwrap();
    assert_eq!(
        request.query,
        vec![
            ("FriendlyName", "Acme".to_owned()),
            ("PageSize", "20".to_owned())
        ]
    );
    let error = client
        .widgets()
        .list()
        .page_size(0)
        .to_request()
        .unwrap_err();
    assert!(error.to_string().contains("1 to 1000"), "{error}");
}

#[test]
fn the_account_is_filled_from_the_credentials_unless_set() {
    let client = client();
    let request = client.addresses().list().to_request().unwrap();
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Addresses.json")
    );
    let other = "AC0123456789abcdef0123456789abcdef";
    let request = client
        .addresses()
        .list()
        .account_sid(other)
        .to_request()
        .unwrap();
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{other}/Addresses.json")
    );
}

#[test]
fn models_decode_leniently_and_keep_undocumented_keys() {
    let thing: models::Thing = serde_json::from_str(
        r#"{"status": "in-review", "links": {"self": "https://x"}, "surprise": 1, "extra": 2}"#,
    )
    .unwrap();
    assert_eq!(
        thing.status.map(|s| s.to_string()).as_deref(),
        Some("in-review")
    );
    assert_eq!(thing.extra, Some(serde_json::json!(2)));
    assert_eq!(thing.undocumented.len(), 1);
    let profile: sid_kinds::CustomerProfile =
        serde_json::from_str(r#"{"sid": "", "policy_sid": null}"#).unwrap();
    assert_eq!((profile.sid, profile.policy_sid), (None, None));
    assert!(serde_json::from_str::<sid_kinds::TrustProduct>(r#"{"sid": "RN1"}"#).is_err());
}
