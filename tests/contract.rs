//! Contract tests: every generated operation, the whole Secondary Customer Profile flow and the
//! A2P 10DLC journey, against Prism serving the pinned official specs; Prism validates each
//! request (path, SID patterns, required parameters, enums, formats, content type, Basic auth)
//! and answers 4xx, or lists the violations in its `sl-violations` header, when one is invalid.
//!
//! Run it with `cargo xtask contract` (also part of `cargo xtask test`): it installs and starts
//! Prism (one server per spec) and sets `PRISM_TRUSTHUB_URL` and `PRISM_API_URL`. This target
//! is only built with the `contract` feature (`required-features`), which only that command
//! turns on: a plain `cargo test` does not build it at all, and a run with the feature but
//! without Prism fails, naming the command. Nothing is skipped silently.
//!
//! The client talks to a recording router on a free loopback port, which sends `/2010-04-01/...`
//! to the 2010 Prism and everything else to the Trust Hub one and keeps every exchange. Prism
//! answers fixed examples that do not hang together (the bundle of one answer is not the bundle
//! of the next), so answers are not asserted: the test counts the requests Prism rejected, and
//! fails unless there are none, and checks that every generated operation was called.

mod fixtures;
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use trusthub::api::trusthub_v1::{
    ComplianceRegistrationBusinessIdentityType, ComplianceRegistrationEndUserType,
    ComplianceRegistrationPhoneNumberType, ComplianceTollfreeInquiryOptInType,
    CustomerProfileStatus, TrustProductStatus,
};
use trusthub::flow::{FlowOptions, Journal, JournalStore, MemoryStore, SecondaryProfile};
use trusthub::Client;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const BU: &str = "BU0123456789abcdef0123456789abcdef";
const BU2: &str = "BUfedcba9876543210fedcba9876543210";
const IT: &str = "IT0123456789abcdef0123456789abcdef";
const RD: &str = "RD0123456789abcdef0123456789abcdef";
const AD: &str = "AD0123456789abcdef0123456789abcdef";
const PN: &str = "PN0123456789abcdef0123456789abcdef";
const RA: &str = "RA0123456789abcdef0123456789abcdef";
const BV: &str = "BV0123456789abcdef0123456789abcdef";
const EL: &str = "EL0123456789abcdef0123456789abcdef";
const OY: &str = "OY0123456789abcdef0123456789abcdef";
const POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
const BN: &str = "BN0123456789abcdef0123456789abcdef";
const MG: &str = "MG0123456789abcdef0123456789abcdef";
const QE: &str = "QE0123456789abcdef0123456789abcdef";

/// Statuses with which Prism refuses a request (invalid input, bad auth, unknown path or
/// method, wrong content type).
const REJECTING: [u16; 8] = [400, 401, 403, 404, 405, 406, 415, 422];

/// One request through the router and Prism's verdict.
#[derive(Debug, Clone)]
struct Exchange {
    method: String,
    target: String,
    status: u16,
    /// Violations Prism found in the REQUEST (`sl-violations` entries located in `request`).
    request_violations: Vec<String>,
    /// How many violations Prism found in its own answer (its examples against its schemas):
    /// reported, not ours to fix.
    response_violations: usize,
    /// The `validation` entries of a 422 problem body: (location, message).
    refusals: Vec<(String, String)>,
    /// The keys of the request's form body.
    form_keys: Vec<String>,
}

impl Exchange {
    /// Refused by Prism, or accepted with violations of the request.
    fn refused(&self) -> bool {
        REJECTING.contains(&self.status) || !self.request_violations.is_empty()
    }

    /// Refused only because Prism reads a repeated form key (`K=a&K=b`, how Twilio's API and
    /// its own libraries send arrays) as one string: Prism's open issue stoplightio/prism#2473.
    /// Every refusal must be `must be array`, about a key the request did send.
    fn refused_for_repeated_keys_only(&self) -> bool {
        self.status == 422
            && self.request_violations.is_empty()
            && !self.refusals.is_empty()
            && self.refusals.iter().all(|(location, message)| {
                message.ends_with("must be array")
                    && self
                        .form_keys
                        .iter()
                        .any(|k| location.ends_with(&format!("\"{k}\"]")))
            })
    }

    /// Refused for a reason that is ours.
    fn rejected(&self) -> bool {
        self.refused() && !self.refused_for_repeated_keys_only()
    }
}

/// The `validation` list of Prism's 422 problem body, as (location, message).
fn refusals(status: u16, body: &[u8]) -> Vec<(String, String)> {
    if status != 422 {
        return Vec::new();
    }
    let problem: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    problem["validation"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["location"].to_string(),
                v["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The keys of a form body, decoded.
fn form_keys(body: &[u8]) -> Vec<String> {
    trusthub::signature::decode_form(body)
        .map(|pairs| pairs.into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default()
}

fn env_url(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the contract tests need Prism; run `cargo xtask contract` \
             (it installs Prism, starts it and sets {name})"
        )
    })
}

/// Splits `sl-violations` (a JSON array of `{location, severity, code, message}`) into request
/// violations (described) and the count of the others.
fn violations(header: Option<&str>) -> (Vec<String>, usize) {
    let Some(text) = header else {
        return (Vec::new(), 0);
    };
    let list: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_else(|_| {
        vec![json!({"location": ["request"], "message": format!("unreadable sl-violations: {text}")})]
    });
    let mut request = Vec::new();
    let mut other = 0;
    for v in list {
        if v["location"][0] == "request" {
            request.push(format!(
                "{} {}: {}",
                v["severity"].as_str().unwrap_or("?"),
                v["location"],
                v["message"].as_str().unwrap_or("")
            ));
        } else {
            other += 1;
        }
    }
    (request, other)
}

/// The recording router in front of the two Prism servers; stops when dropped.
struct Router {
    base_url: String,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Router {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Router {
    async fn start(trusthub: String, api: String, messaging: String) -> Router {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let upstream = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let shared = exchanges.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (exchanges, upstream) = (shared.clone(), upstream.clone());
                let (trusthub, api, messaging) = (trusthub.clone(), api.clone(), messaging.clone());
                tokio::spawn(async move {
                    while let Some(request) = support::read_one_request(&mut socket).await {
                        let target = request.target.as_str();
                        let base = if target.starts_with("/2010-04-01/") {
                            &api
                        } else if target.starts_with("/v1/Services")
                            || target.starts_with("/v1/a2p/")
                        {
                            &messaging
                        } else {
                            &trusthub
                        };
                        let method =
                            reqwest::Method::from_bytes(request.method.as_bytes()).expect("method");
                        let mut forward = upstream
                            .request(method, format!("{base}{}", request.target))
                            .body(request.body.clone());
                        for (name, value) in &request.headers {
                            if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                                forward = forward.header(name.as_str(), value.as_str());
                            }
                        }
                        if let Some(example) = next_stage_example(&request.method, target) {
                            forward = forward.header("Prefer", format!("example={example}"));
                        }
                        let (status, content_type, sl, body) = match forward.send().await {
                            Ok(response) => {
                                let header = |n: &str| {
                                    response
                                        .headers()
                                        .get(n)
                                        .and_then(|v| v.to_str().ok())
                                        .map(str::to_owned)
                                };
                                let (ct, sl) = (header("content-type"), header("sl-violations"));
                                let status = response.status().as_u16();
                                let body = response.bytes().await.unwrap_or_default().to_vec();
                                (status, ct, sl, body)
                            }
                            Err(e) => (
                                502,
                                Some("text/plain".to_owned()),
                                None,
                                format!("router: Prism did not answer: {e}").into_bytes(),
                            ),
                        };
                        let (request_violations, response_violations) = violations(sl.as_deref());
                        exchanges.lock().expect("exchanges").push(Exchange {
                            method: request.method.clone(),
                            target: request.target.clone(),
                            status,
                            request_violations,
                            response_violations,
                            refusals: refusals(status, &body),
                            form_keys: form_keys(&request.body),
                        });
                        let mut head = format!("HTTP/1.1 {status} Prism\r\n");
                        if let Some(ct) = content_type {
                            head.push_str(&format!("Content-Type: {ct}\r\n"));
                        }
                        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                        if socket.write_all(head.as_bytes()).await.is_err()
                            || socket.write_all(&body).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Router {
            base_url,
            exchanges,
            task,
        }
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().expect("exchanges").clone()
    }
}

/// Prism answers with the first example of an operation; where that example would stop the A2P
/// journey before its later requests (a noncompliant trust product, a brand still pending), the
/// router asks for the spec's own example of the next stage, so that every request of the
/// journey reaches Prism.
fn next_stage_example(method: &str, target: &str) -> Option<&'static str> {
    let path = target.split('?').next().unwrap_or_default();
    if method == "POST" && matches_template("/v1/TrustProducts/{Sid}/Evaluations", path) {
        Some("createCompliantSoleProprietorA2PProfile")
    } else if method == "GET" && matches_template("/v1/a2p/BrandRegistrations/{Sid}", path) {
        Some("fetchSoleProprietorRegisteredVerified")
    } else {
        None
    }
}

/// Whether `path` (no query) is an instance of `template` (`{Param}` segments, possibly with a
/// suffix such as `{Sid}.json`).
fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| match (t.find('{'), t.find('}')) {
                (Some(open), Some(close)) => {
                    p.starts_with(&t[..open])
                        && p.ends_with(&t[close + 1..])
                        && p.len() > open + t.len() - close - 1
                }
                _ => t == p,
            })
}

/// Every generated operation once (lists twice: one page, and a stream), with parameters that
/// exercise each kind of form field: text, SIDs, `Attributes` objects, arrays, enums, booleans.
/// Answers are Prism's examples and are not asserted.
async fn call_every_operation(c: &Client) -> Vec<String> {
    let mut errors = Vec::new();
    macro_rules! call {
        ($($request:expr),+ $(,)?) => {$(
            if let Err(e) = $request.send().await {
                errors.push(e.to_string());
            }
        )+};
    }
    macro_rules! stream {
        ($($request:expr),+ $(,)?) => {$(
            {
                use futures_util::TryStreamExt as _;
                if let Err(e) = $request.limit(3).into_stream().try_collect::<Vec<_>>().await {
                    errors.push(e.to_string());
                }
            }
        )+};
    }
    let attributes = json!({
        "business_name": "Acme Corp",
        "business_identity": "direct_customer",
        "business_regions_of_operation": "USA_AND_CANADA",
        "business_registration_number": "123456789",
    });
    // Trust Hub: compliance inquiries and registrations.
    call!(
        c.compliance_inquiries()
            .create(BU)
            .notification_email("ops@acme.example.com")
            .theme_set_id("theme"),
        c.compliance_inquiries().update("customer-1", BU),
        c.compliance_registration_inquiries()
            .create(
                ComplianceRegistrationEndUserType::Business,
                ComplianceRegistrationPhoneNumberType::Local,
            )
            .business_identity_type(ComplianceRegistrationBusinessIdentityType::DirectCustomer)
            .business_legal_name("Acme Corp")
            .notification_email("ops@acme.example.com")
            .accepted_notification_receipt(true)
            .business_website_url("https://acme.example.com")
            .use_address_as_emergency_address(false)
            .is_isv_embed(false)
            .status_callback_url("https://acme.example.com/callback"),
        c.compliance_registration_inquiries()
            .update("registration-1")
            .is_isv_embed(true)
            .theme_set_id("theme"),
        // Once without the array parameters, which Prism cannot read (see
        // `Exchange::refused_for_repeated_keys_only`), so that it validates everything else ...
        c.compliance_tollfree_inquiries()
            .create("+18005550100", "ops@acme.example.com")
            .business_name("Acme Corp")
            .opt_in_type(ComplianceTollfreeInquiryOptInType::WebForm)
            .skip_messaging_use_case(true),
        // ... and once with them, as Twilio takes them.
        c.compliance_tollfree_inquiries()
            .create("+18005550100", "ops@acme.example.com")
            .business_name("Acme Corp")
            .use_case_categories(["TWO_FACTOR_AUTHENTICATION", "ACCOUNT_NOTIFICATIONS"])
            .opt_in_image_urls([
                "https://acme.example.com/a.png",
                "https://acme.example.com/b.png"
            ])
            .opt_in_type(ComplianceTollfreeInquiryOptInType::WebForm)
            .skip_messaging_use_case(true),
    );
    // Customer profiles and their assignments and evaluations.
    let profiles = c.customer_profiles();
    call!(
        profiles
            .create("Acme Corp", "ops@acme.example.com", POLICY)
            .status_callback("https://acme.example.com/callback"),
        profiles
            .list()
            .status(CustomerProfileStatus::Draft)
            .friendly_name("Acme Corp")
            .policy_sid(POLICY)
            .page_size(20),
        profiles
            .update(BU)
            .status(CustomerProfileStatus::PendingReview)
            .email("ops@acme.example.com"),
        profiles.fetch(BU),
        profiles.delete(BU2),
        profiles
            .channel_endpoint_assignments(BU)
            .create("phone-number", PN),
        profiles
            .channel_endpoint_assignments(BU)
            .list()
            .channel_endpoint_sid(PN),
        profiles.channel_endpoint_assignments(BU).fetch(RA),
        profiles.channel_endpoint_assignments(BU).delete(RA),
        profiles.entity_assignments(BU).create(IT),
        profiles.entity_assignments(BU).list(),
        profiles.entity_assignments(BU).fetch(BV),
        profiles.entity_assignments(BU).delete(BV),
        profiles.evaluations(BU).create(POLICY),
        profiles.evaluations(BU).list(),
        profiles.evaluations(BU).fetch(EL),
    );
    stream!(profiles.list(), profiles.evaluations(BU).list());
    // End users, their types, policies, supporting documents and their types.
    call!(
        c.end_users()
            .create("Acme Corp", "customer_profile_business_information")
            .attributes(attributes.clone()),
        c.end_users().list(),
        c.end_users()
            .update(IT)
            .friendly_name("Acme")
            .attributes(attributes.clone()),
        c.end_users().fetch(IT),
        c.end_users().delete(IT),
        c.end_user_types().list(),
        c.end_user_types().fetch(OY),
        c.policies().list(),
        c.policies().fetch(POLICY),
        c.supporting_documents()
            .create("Acme address", "customer_profile_address")
            .attributes(json!({"address_sids": AD})),
        c.supporting_documents().list(),
        c.supporting_documents()
            .update(RD)
            .friendly_name("Acme address")
            .attributes(json!({"address_sids": AD})),
        c.supporting_documents().fetch(RD),
        c.supporting_documents().delete(RD),
        c.supporting_document_types().list(),
        c.supporting_document_types().fetch(OY),
    );
    stream!(c.end_users().list().page_size(2), c.policies().list());
    // Trust products.
    let products = c.trust_products();
    call!(
        products.create(
            "Acme A2P",
            "ops@acme.example.com",
            "RNb0d4771c2c98518d916a3d4cd70a8f8b"
        ),
        products.list().status(TrustProductStatus::Draft),
        products
            .update(BU)
            .status(TrustProductStatus::PendingReview),
        products.fetch(BU),
        products.delete(BU2),
        products
            .channel_endpoint_assignments(BU)
            .create("phone-number", PN),
        products.channel_endpoint_assignments(BU).list(),
        products.channel_endpoint_assignments(BU).fetch(RA),
        products.channel_endpoint_assignments(BU).delete(RA),
        products.entity_assignments(BU).create(BU2),
        products.entity_assignments(BU).list(),
        products.entity_assignments(BU).fetch(BV),
        products.entity_assignments(BU).delete(BV),
        products
            .evaluations(BU)
            .create("RNb0d4771c2c98518d916a3d4cd70a8f8b"),
        products.evaluations(BU).list(),
        products.evaluations(BU).fetch(EL),
    );
    // The 2010 API: addresses and incoming phone numbers, booleans included.
    call!(
        c.addresses()
            .create(
                "Acme Corp",
                "555 Main Street",
                "San Francisco",
                "CA",
                "94105",
                "US"
            )
            .friendly_name("Acme HQ")
            .emergency_enabled(false)
            .auto_correct_address(true)
            .street_secondary("Suite 200"),
        c.addresses()
            .list()
            .emergency_enabled(true)
            .iso_country("US")
            .page_size(50),
        c.addresses()
            .update(AD)
            .city("Oakland")
            .emergency_enabled(true)
            .auto_correct_address(false),
        c.addresses().fetch(AD),
        c.addresses().delete(AD),
        c.incoming_phone_numbers().fetch(PN),
        c.incoming_phone_numbers()
            .list()
            .beta(false)
            .phone_number("+14155550100"),
    );
    stream!(
        c.addresses().list(),
        c.incoming_phone_numbers().list().page_size(2)
    );
    // Messaging: A2P 10DLC brands and their vettings, Messaging Services and their numbers, US
    // A2P campaigns and their use cases.
    use trusthub::api::messaging_v1::BrandVettingVettingProvider;
    call!(
        c.brand_registrations()
            .create(BU, BU2)
            .brand_type("STANDARD")
            .mock(true)
            .skip_automatic_sec_vet(false),
        c.brand_registrations().fetch(BN),
        c.brand_registrations().update(BN),
        c.brand_registrations().sms_otp(BN).create(),
        c.brand_registrations()
            .vettings(BN)
            .create(BrandVettingVettingProvider::CampaignVerify)
            .vetting_id("cv|1.0|tcr|10dlc|example"),
        c.brand_registrations()
            .vettings(BN)
            .fetch("VT0123456789abcdef0123456789abcdef"),
        c.services()
            .create("Acme messaging")
            .status_callback("https://isv.example.com/status")
            .sticky_sender(true)
            .validity_period(14400)
            .usecase("marketing"),
        c.services().fetch(MG),
        c.services().update(MG).friendly_name("Acme messaging 2"),
        c.services().delete(MG),
        c.services().phone_numbers(MG).create(PN),
        c.services().phone_numbers(MG).fetch(PN),
        c.services().phone_numbers(MG).delete(PN),
        c.services()
            .usa2p(MG)
            .create(
                BN,
                "Appointment reminders for Acme's customers",
                "Customers opt in on the web form at acme.example.com/sms",
                ["Acme: your appointment is tomorrow at 10:00. Reply STOP to opt out."],
                "MIXED",
                false,
                false,
            )
            .opt_in_message("You are subscribed to Acme reminders.")
            .subscriber_opt_in(true),
        c.services().usa2p(MG).fetch(QE),
        c.services().usa2p(MG).update(
            QE,
            false,
            false,
            ["Acme: your appointment is tomorrow at 10:00. Reply STOP to opt out."],
            "Customers opt in on the web form at acme.example.com/sms",
            "Appointment reminders for Acme's customers",
            false,
            false,
        ),
        c.services().usa2p(MG).delete(QE),
        c.services().usecases(MG).fetch(),
        c.usecases().fetch(),
        c.preregistered_usa2p()
            .create("CABCDEF", MG)
            .cnp_migration(false),
    );
    stream!(
        c.brand_registrations().list().page_size(2),
        c.brand_registrations().vettings(BN).list(),
        c.services().list(),
        c.services().phone_numbers(MG).list(),
        c.services().usa2p(MG).list()
    );
    errors
}

fn flow_input() -> SecondaryProfile {
    SecondaryProfile::builder()
        .friendly_name("Acme Corp")
        .email("compliance@acme.example.com")
        .status_callback("https://acme.example.com/callback")
        .business(fixtures::business())
        .representatives(fixtures::representative(1), fixtures::representative(2))
        .address(fixtures::address())
        .primary_profile(BU2.parse().unwrap())
        .phone_numbers([PN.parse().unwrap()])
        .build()
        .expect("valid flow input")
}

/// The A2P journey against Prism: every step's request, the use case check and both reviews.
async fn a2p_journey(client: &Client) -> String {
    use trusthub::attributes::{CompanyType, MessagingProfileInformation, StockExchange};
    use trusthub::flow::a2p::{Brand, BrandType, Campaign, Journey, MessagingServiceInput};
    let journey = Journey::builder()
        .existing_profile(BU2.parse().unwrap())
        .trust_product("Acme A2P", "compliance@acme.example.com")
        .messaging_profile(MessagingProfileInformation {
            stock_exchange: Some(StockExchange::Nasdaq),
            stock_ticker: Some("ACME".into()),
            brand_contact_email: Some("brand@acme.example.com".into()),
            ..MessagingProfileInformation::new(CompanyType::Public)
        })
        .brand(Brand {
            mock: true,
            ..Brand::new(BrandType::Standard)
        })
        .messaging_service_input(MessagingServiceInput::New {
            friendly_name: "Acme sign-in codes".into(),
            inbound_request_url: Some("https://acme.example.com/inbound".into()),
            status_callback: Some("https://acme.example.com/status".into()),
        })
        .campaign(Campaign {
            opt_in_keywords: vec!["START".into()],
            opt_in_message: Some("Acme: you will get sign-in codes. Reply STOP to stop.".into()),
            has_embedded_links: true,
            subscriber_opt_in: Some(true),
            ..fixtures::campaign()
        })
        .phone_numbers([PN.parse().unwrap()])
        .build()
        .expect("valid journey input");
    let store = MemoryStore::new();
    let key = store.digest_key();
    let journal = Journal::from_json(
        &json!({
            "format": trusthub::flow::JOURNAL_FORMAT,
            "flow_id": "th-0123456789abcdee",
            "key_id": key.id(),
            "input": journey.input_digests(key),
            "started_at": "2026-01-01T00:00:00Z",
            "a2p": { "profile_confirmed": true },
        })
        .to_string(),
    )
    .expect("a journal");
    match client
        .a2p_journey(&journey)
        .journal(store.clone())
        .resuming(journal)
        .run()
        .await
    {
        Ok(report) => report.stage.to_string(),
        Err(e) => format!("journey stopped: {e}"),
    }
}

/// The voice trust products against Prism: from a profile its journal holds as built and
/// submitted (Prism's examples do not hang together enough to build one), both products with
/// their end user, assignments, numbers, evaluations and submissions.
async fn voice_products(client: &Client) -> String {
    use trusthub::flow::voice::VoiceProducts;
    let input = VoiceProducts::builder()
        .secondary_profile(flow_input())
        .shaken_stir()
        .cnam("Acme Corp")
        .phone_numbers([PN.parse().unwrap()])
        .build()
        .expect("valid voice input");
    let store = MemoryStore::new();
    let key = store.digest_key();
    let sid = |prefix: &str, n: u8| format!("{prefix}{n:02}23456789abcdef0123456789abcdef");
    let journal = Journal::from_json(
        &json!({
            "format": trusthub::flow::JOURNAL_FORMAT,
            "flow_id": "th-0123456789abcded",
            "key_id": key.id(),
            "input": input.input_digests(key),
            "started_at": "2026-01-01T00:00:00Z",
            "policy": trusthub::sid::policies::SECONDARY_CUSTOMER_PROFILE.to_string(),
            "bundle": sid("BU", 1),
            "end_users": {
                "business_information": sid("IT", 1),
                "representative_1": sid("IT", 2),
                "representative_2": sid("IT", 3),
            },
            "address": sid("AD", 1),
            "address_created": true,
            "document": sid("RD", 1),
            "entity_assignments": {
                sid("IT", 1): sid("BV", 1),
                sid("IT", 2): sid("BV", 2),
                sid("IT", 3): sid("BV", 3),
                sid("RD", 1): sid("BV", 4),
                BU2: sid("BV", 5),
            },
            "channel_endpoint_assignments": { PN: sid("RA", 1) },
            "evaluation": sid("EL", 1),
            "compliant": true,
            "submitted": true,
        })
        .to_string(),
    )
    .expect("a journal");
    match client
        .voice_products(&input)
        .journal(store)
        .resuming(journal)
        .run()
        .await
    {
        Ok(report) => format!(
            "{} trust products submitted ({})",
            report.products.len(),
            report
                .products
                .iter()
                .map(|p| format!("{}: {}", p.kind.name(), p.status))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => format!("voice products stopped: {e}"),
    }
}

#[tokio::test]
async fn every_operation_and_the_flow_pass_prism() {
    let router = Router::start(
        env_url("PRISM_TRUSTHUB_URL"),
        env_url("PRISM_API_URL"),
        env_url("PRISM_MESSAGING_URL"),
    )
    .await;
    let client = Client::builder()
        .account_sid(ACCOUNT.parse().unwrap())
        .auth_token("prism-contract-token")
        .base_url(router.base_url.clone())
        .timeout(Duration::from_secs(30))
        .no_retries()
        .build()
        .unwrap();

    // The harness must see a refusal: an end user without its required `Type`, sent without
    // credentials, is refused by Prism and counted as rejected.
    let canary = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/v1/EndUsers", router.base_url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("FriendlyName=canary")
        .send()
        .await
        .expect("the router answers");
    assert!(
        REJECTING.contains(&canary.status().as_u16()),
        "{}",
        canary.status()
    );
    let canaries = router.exchanges();
    assert!(
        canaries.len() == 1 && canaries[0].rejected(),
        "a request Prism must refuse was not counted as rejected: {canaries:?}"
    );

    let errors = call_every_operation(&client).await;
    let by_operations = router.exchanges().len() - 1;

    // The whole flow (steps 1-10), with Prism's answers; allowed to go on when Prism's example
    // policy does not match the input, so that every step sends its requests. Prism's example
    // primary profile is a draft, so the flow's own check stops it before any create: its
    // requests are sent, then the flow goes on from a journal that records the checks as done
    // (as a resumed flow does), so that every create of the flow is sent too.
    let options = FlowOptions {
        allow_incomplete: true,
        ..FlowOptions::default()
    };
    let input = flow_input();
    let store = MemoryStore::new();
    let checked = client
        .secondary_profile(&input)
        .journal(store.clone())
        .options(options.clone())
        .run()
        .await;
    let preflight = match checked {
        Err(e @ trusthub::FlowError::PrimaryProfile { .. }) => format!("{e}"),
        other => panic!("Prism's example primary profile passed the check: {other:?}"),
    };
    let key = store.digest_key();
    let journal = Journal::from_json(
        &json!({
            "format": trusthub::flow::JOURNAL_FORMAT,
            "flow_id": "th-0123456789abcdef",
            "key_id": key.id(),
            "input": input.input_digests(key),
            "started_at": "2026-01-01T00:00:00Z",
            "policy": input.policy().to_string(),
        })
        .to_string(),
    )
    .expect("a journal");
    let flow = client
        .secondary_profile(&input)
        .journal(store.clone())
        .resuming(journal)
        .options(options)
        .run()
        .await;
    println!(
        "prism: the flow's primary profile check refused Prism's example: {}",
        preflight.split(": ").nth(1).unwrap_or_default()
    );
    let flow_outcome = match flow {
        Ok(mut report) => {
            let submitted = report.submit(trusthub::Submission::Force).await;
            format!(
                "flow ran {} steps, evaluation {}, submission {}",
                report.steps.len(),
                report.evaluation.status().map_or("unknown", |s| s.as_str()),
                match submitted {
                    Ok(status) => status.to_string(),
                    Err(e) => format!("failed: {e}"),
                }
            )
        }
        Err(e) => format!("flow stopped: {e}"),
    };

    // The A2P journey from a submitted profile (its check journaled, as on a resumed run: Prism's
    // example profile is a draft), with every optional input set, up to the campaign's review.
    let journey_before = router.exchanges().len();
    let journey_outcome = a2p_journey(&client).await;
    let by_journey = router.exchanges().len() - journey_before;
    let voice_before = router.exchanges().len();
    let voice_outcome = voice_products(&client).await;
    let by_voice = router.exchanges().len() - voice_before;

    // Everything after the canary.
    let exchanges = router.exchanges().split_off(1);
    let by_flow = exchanges.len() - by_operations - by_journey - by_voice;
    // Every generated operation was called at least once.
    let uncalled: Vec<&str> = trusthub::api::operations()
        .filter(|op| {
            !exchanges.iter().any(|e| {
                e.method == op.method.as_str()
                    && matches_template(op.path_template, e.target.split('?').next().unwrap_or(""))
            })
        })
        .map(|op| op.id)
        .collect();
    let rejected: Vec<&Exchange> = exchanges.iter().filter(|e| e.rejected()).collect();
    let repeated_keys: Vec<&Exchange> = exchanges
        .iter()
        .filter(|e| e.refused_for_repeated_keys_only())
        .collect();
    let response_violations: usize = exchanges.iter().map(|e| e.response_violations).sum();
    println!(
        "prism: {} requests ({} by the {} operations, {} by the flow, {} by the A2P journey, {} by \
         the voice products), {} rejected",
        exchanges.len(),
        by_operations,
        trusthub::api::operations().count(),
        by_flow,
        by_journey,
        by_voice,
        rejected.len()
    );
    println!(
        "prism: {} requests with array parameters as repeated keys, which Prism cannot read \
         (stoplightio/prism#2473); not counted as rejected",
        repeated_keys.len()
    );
    for e in &repeated_keys {
        println!(
            "  repeated keys: {} {} {:?}",
            e.method, e.target, e.refusals
        );
    }
    println!("prism: {flow_outcome}");
    println!("prism: the A2P journey sent {by_journey} requests: {journey_outcome}");
    println!("prism: the voice products sent {by_voice} requests: {voice_outcome}");
    assert!(
        voice_outcome.starts_with("2 trust products submitted"),
        "the voice products did not reach their submissions against Prism: {voice_outcome}"
    );
    // The campaign's create carries its samples and keywords as repeated keys: Prism cannot read
    // them (above) and refuses it; every other request of the journey was sent and accepted.
    let journey_exchanges =
        &exchanges[exchanges.len() - by_voice - by_journey..exchanges.len() - by_voice];
    let campaign_create = journey_exchanges
        .iter()
        .find(|e| e.method == "POST" && e.target.ends_with("/Compliance/Usa2p"))
        .expect("the journey sent its campaign");
    assert!(
        journey_outcome.starts_with("waiting for campaign QE")
            || campaign_create.refused_for_repeated_keys_only(),
        "the A2P journey did not reach its campaign against Prism: {journey_outcome}"
    );
    println!(
        "prism: {} answers failed to decode, {response_violations} violations in Prism's own examples",
        errors
            .iter()
            .filter(|e| e.contains("does not match the expected shape"))
            .count()
    );
    for e in &rejected {
        println!(
            "  REJECTED {} {} -> {} {:?} {:?}",
            e.method, e.target, e.status, e.request_violations, e.refusals
        );
    }
    for e in errors.iter().filter(|e| !e.contains("failed with HTTP")) {
        println!("  client error: {e}");
    }
    assert!(
        uncalled.is_empty(),
        "operations never called against Prism: {uncalled:?}"
    );
    assert!(
        rejected.is_empty(),
        "Prism rejected {} of {} requests (listed above)",
        rejected.len(),
        exchanges.len()
    );
}

#[test]
fn templates_match_paths() {
    assert!(matches_template(
        "/v1/CustomerProfiles/{Sid}",
        &format!("/v1/CustomerProfiles/{BU}")
    ));
    assert!(!matches_template(
        "/v1/CustomerProfiles/{Sid}",
        "/v1/CustomerProfiles"
    ));
    assert!(matches_template(
        "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json",
        &format!("/2010-04-01/Accounts/{ACCOUNT}/Addresses/{AD}.json")
    ));
    assert!(!matches_template(
        "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json",
        &format!("/2010-04-01/Accounts/{ACCOUNT}/Addresses.json")
    ));
    let (request, others) = violations(Some(
        r#"[{"location":["request","body"],"severity":"Error","code":"required","message":"must have required property 'Type'"},{"location":["response","body"],"severity":"Error","message":"x"}]"#,
    ));
    assert_eq!(request.len(), 1);
    assert!(request[0].contains("must have required property 'Type'"));
    assert_eq!(others, 1);
    let refused = |keys: &[&str], validation: &str| Exchange {
        method: "POST".into(),
        target: "/v1/X".into(),
        status: 422,
        request_violations: Vec::new(),
        response_violations: 0,
        refusals: refusals(422, validation.as_bytes()),
        form_keys: keys.iter().map(|k| k.to_string()).collect(),
    };
    let arrays = r#"{"validation":[{"location":["body","UseCaseCategories"],"message":"Request body property UseCaseCategories must be array"}]}"#;
    assert!(!refused(&["UseCaseCategories", "UseCaseCategories"], arrays).rejected());
    // Not sent by us: a real refusal.
    assert!(refused(&["Other"], arrays).rejected());
    let missing =
        r#"{"validation":[{"location":["body"],"message":"must have required property 'Type'"}]}"#;
    assert!(refused(&["FriendlyName"], missing).rejected());
    assert!(refused(&[], "not json").rejected());
}
