//! The seed document's flow over HTTP: evaluations (empty, invalid, compliant), the review lifecycle, and
//! signed status callbacks received by a local server and verified with an independent HMAC.

use crate::common;

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Router};
use base64::Engine as _;
use common::{assign_all, create_parts, evaluate, invalid_field, requirement, Api};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use tokio::sync::mpsc;
use trusthub_emulator::{policies, start, Decision, EmulatorConfig, MANUAL_REJECTION_CODE};

const RESULT_KEYS: [&str; 9] = [
    "error_code",
    "failure_reason",
    "friendly_name",
    "invalid",
    "object_type",
    "passed",
    "requirement_friendly_name",
    "requirement_name",
    "valid",
];

fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn fields_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["object_field"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_empty_bundle_evaluates_like_the_seed_example() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let profile = api
        .create_profile(
            "Empty",
            "e@example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            None,
        )
        .await;
    let evaluation = evaluate(&api, &profile).await;
    assert_eq!(evaluation["status"], "noncompliant");
    assert_eq!(evaluation["customer_profile_sid"], profile.as_str());
    assert_eq!(
        evaluation["policy_sid"],
        policies::SECONDARY_CUSTOMER_PROFILE
    );
    assert!(evaluation["sid"].as_str().unwrap().starts_with("EL"));
    assert_eq!(
        sorted_keys(&evaluation),
        vec![
            "account_sid",
            "customer_profile_sid",
            "date_created",
            "policy_sid",
            "results",
            "sid",
            "status",
            "url"
        ]
    );
    let results = evaluation["results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "one failing result per requirement");
    for result in results {
        assert_eq!(sorted_keys(result), RESULT_KEYS);
        assert_eq!(result["passed"], false);
        assert_eq!(result["valid"], json!([]));
        for entry in result["invalid"].as_array().unwrap() {
            assert_eq!(
                sorted_keys(entry),
                vec![
                    "error_code",
                    "failure_reason",
                    "friendly_name",
                    "object_field"
                ]
            );
        }
    }

    let business = requirement(&evaluation, "customer_profile_business_information");
    assert_eq!(business["error_code"], 22214);
    assert_eq!(
        business["object_type"],
        "customer_profile_business_information"
    );
    assert_eq!(
        business["failure_reason"],
        "A Business Information End-User is missing. Please add one to the regulatory bundle."
    );
    assert_eq!(
        fields_of(&business["invalid"]),
        vec![
            "business_type",
            "business_registration_number",
            "business_name",
            "business_registration_identifier",
            "business_identity",
            "business_industry",
            "website_url",
            "business_regions_of_operation",
        ]
    );
    let name = invalid_field(business, "business_name");
    assert_eq!(name["error_code"], 22215);
    assert_eq!(name["friendly_name"], "Business Name");
    assert_eq!(
        name["failure_reason"],
        "The Business Name is missing. Please enter in a Business Name on the Business Information."
    );
    for rep in ["authorized_representative_1", "authorized_representative_2"] {
        let result = requirement(&evaluation, rep);
        assert_eq!(result["error_code"], 22214);
        assert_eq!(
            fields_of(&result["invalid"]),
            vec![
                "first_name",
                "last_name",
                "email",
                "phone_number",
                "business_title",
                "job_position"
            ]
        );
        assert!(result["invalid"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["error_code"] == 22215));
    }
    let address = requirement(&evaluation, "customer_profile_address");
    assert_eq!(address["error_code"], 22216);
    assert_eq!(address["friendly_name"], "Physical Business Address");
    let sids = invalid_field(address, "address_sids");
    assert_eq!(sids["error_code"], 22219);
    assert_eq!(sids["friendly_name"], "Address sid(s)");
    let primary = requirement(&evaluation, "primary_customer_profile");
    assert_eq!(primary["error_code"], 22220);

    // The evaluation can be fetched and listed.
    let sid = evaluation["sid"].as_str().unwrap();
    let fetched = api
        .get(&format!("/v1/CustomerProfiles/{profile}/Evaluations/{sid}"))
        .await;
    assert_eq!(fetched.json, evaluation);
    let listed = api
        .get(&format!("/v1/CustomerProfiles/{profile}/Evaluations"))
        .await;
    assert_eq!(listed.json["results"][0]["sid"], sid);
    emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_values_are_reported_without_echoing_pii() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let flow = create_parts(&api, "PO Box 123", None).await;
    // Business information with unlisted values, a rep with a bad email and phone number.
    let mut business = common::business_information();
    business["business_industry"] = json!("SPACE");
    business["business_regions_of_operation"] = json!("USA_AND_CANADA,CANADA");
    business["website_url"] = json!("not a url");
    business["business_registration_identifier"] = json!("Other");
    let attributes = business.to_string();
    let reply = api
        .post(
            &format!("/v1/EndUsers/{}", flow.business),
            &[("Attributes", &attributes)],
        )
        .await;
    assert_eq!(reply.status, 200);
    let mut rep = common::representative(1);
    rep["email"] = json!("secret-person.example.com");
    rep["phone_number"] = json!("5551234567");
    rep["job_position"] = json!("Boss");
    let attributes = rep.to_string();
    api.post(
        &format!("/v1/EndUsers/{}", flow.representative_1),
        &[("Attributes", &attributes)],
    )
    .await;
    // A draft primary profile (not twilio-approved) instead of the seeded one.
    let other_primary = api
        .create_profile(
            "Not approved",
            "p@example.com",
            policies::PRIMARY_BUSINESS_PROFILE,
            None,
        )
        .await;
    assign_all(&api, &flow, &other_primary).await;

    let evaluation = evaluate(&api, &flow.profile).await;
    assert_eq!(evaluation["status"], "noncompliant");
    let text = evaluation.to_string();
    for pii in ["secret-person", "5551234567", "123456789\"", "PO Box 123"] {
        assert!(!text.contains(pii), "{pii} echoed in {text}");
    }
    let business = requirement(&evaluation, "customer_profile_business_information");
    assert_eq!(business["passed"], false);
    assert_eq!(business["error_code"], 22215, "the Other name is missing");
    let industry = invalid_field(business, "business_industry");
    assert_eq!(industry["error_code"], 22217);
    assert!(industry["failure_reason"]
        .as_str()
        .unwrap()
        .contains("'SPACE'"));
    let regions = invalid_field(business, "business_regions_of_operation");
    assert!(regions["failure_reason"]
        .as_str()
        .unwrap()
        .contains("'CANADA'"));
    assert_eq!(invalid_field(business, "website_url")["error_code"], 22217);
    assert_eq!(
        invalid_field(business, "business_registration_identifier_other")["error_code"],
        22215
    );
    assert!(fields_of(&business["valid"]).contains(&"business_name"));

    let rep = requirement(&evaluation, "authorized_representative_1");
    let email = invalid_field(rep, "email");
    assert_eq!(email["error_code"], 22217);
    assert!(email["failure_reason"].as_str().unwrap().contains("no '@'"));
    let phone = invalid_field(rep, "phone_number");
    assert!(phone["failure_reason"]
        .as_str()
        .unwrap()
        .contains("does not start with '+'"));
    assert!(invalid_field(rep, "job_position")["failure_reason"]
        .as_str()
        .unwrap()
        .contains("'Boss'"));
    assert_eq!(
        requirement(&evaluation, "authorized_representative_2")["passed"],
        true
    );

    let address = requirement(&evaluation, "customer_profile_address");
    let sids = invalid_field(address, "address_sids");
    assert_eq!(sids["error_code"], 22217);
    assert!(sids["failure_reason"].as_str().unwrap().contains("PO Box"));

    let primary = requirement(&evaluation, "primary_customer_profile");
    assert_eq!(primary["error_code"], 22221);
    assert!(primary["failure_reason"]
        .as_str()
        .unwrap()
        .contains("draft"));

    // An address SID that does not exist is 22219.
    let document = api
        .post(
            &format!("/v1/SupportingDocuments/{}", flow.document),
            &[(
                "Attributes",
                "{\"address_sids\":\"AD00000000000000000000000000000000\"}",
            )],
        )
        .await;
    assert_eq!(document.status, 200);
    let evaluation = evaluate(&api, &flow.profile).await;
    let address = requirement(&evaluation, "customer_profile_address");
    assert_eq!(invalid_field(address, "address_sids")["error_code"], 22219);

    // Submitting rejects it at once, with the failures in `errors`.
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    let submitted = api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(submitted.status, 200);
    assert_eq!(submitted.json["status"], "pending-review");
    let rejected = api.get(&path).await;
    assert_eq!(rejected.json["status"], "twilio-rejected");
    let errors = rejected.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 4);
    for error in errors {
        assert_eq!(
            sorted_keys(error),
            vec![
                "code",
                "fields",
                "message",
                "object_sid",
                "object_type",
                "requirement_name"
            ]
        );
    }
    assert_eq!(errors[0]["code"], 22215);
    assert_eq!(
        errors[0]["requirement_name"],
        "customer_profile_business_information"
    );
    assert_eq!(
        errors[0]["object_type"],
        "customer_profile_business_information"
    );
    assert_eq!(errors[0]["object_sid"], flow.business.as_str());
    assert!(errors[0]["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("business_industry")));
    emulator.shutdown().await;
}

/// Updates the first representative's attributes with `phone` as its phone number.
async fn set_phone(api: &Api, end_user: &str, phone: &str) {
    let mut rep = common::representative(1);
    rep["phone_number"] = json!(phone);
    let attributes = rep.to_string();
    let reply = api
        .post(
            &format!("/v1/EndUsers/{end_user}"),
            &[("Attributes", &attributes)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
}

#[tokio::test]
async fn a_number_outside_the_north_american_plan_is_22218() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let flow = create_parts(&api, "555 AnyStreet", None).await;
    assign_all(&api, &flow, emulator.primary_profile_sid()).await;
    let rep_1 = flow.representative_1.as_str();

    // E.164-shaped, but the area code starts with 1: Twilio's 22218, with its own words.
    set_phone(&api, rep_1, "+11234567890").await;
    let evaluation = evaluate(&api, &flow.profile).await;
    assert_eq!(evaluation["status"], "noncompliant");
    let rep = requirement(&evaluation, "authorized_representative_1");
    assert_eq!(rep["passed"], false);
    assert_eq!(rep["error_code"], 22218);
    assert_eq!(fields_of(&rep["invalid"]), ["phone_number"]);
    let phone = invalid_field(rep, "phone_number");
    assert_eq!(phone["error_code"], 22218);
    assert_eq!(phone["friendly_name"], "Phone Number");
    assert_eq!(phone["failure_reason"], "Phone number is invalid.");
    assert!(!evaluation.to_string().contains("1234567890"));
    // Every other requirement passes: only the number is wrong.
    for result in evaluation["results"].as_array().unwrap() {
        if result["requirement_name"] != "authorized_representative_1" {
            assert_eq!(result["passed"], true, "{result}");
        }
    }
    // A submission is rejected with the code and the field.
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    api.post(&path, &[("Status", "pending-review")]).await;
    let rejected = api.get(&path).await;
    assert_eq!(rejected.json["status"], "twilio-rejected");
    let errors = rejected.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], 22218);
    assert_eq!(errors[0]["requirement_name"], "authorized_representative_1");
    assert_eq!(errors[0]["fields"], json!(["phone_number"]));

    // The other rules of the plan: an N11 area code, an exchange starting with 0, 9 digits.
    for bad in ["+19115550102", "+14150555010", "+1415555010"] {
        set_phone(&api, rep_1, bad).await;
        let evaluation = evaluate(&api, &flow.profile).await;
        let rep = requirement(&evaluation, "authorized_representative_1");
        assert_eq!(
            invalid_field(rep, "phone_number")["error_code"],
            22218,
            "{bad}"
        );
    }
    // A number that is not E.164 at all stays 22217.
    set_phone(&api, rep_1, "+1 415 555 0102").await;
    let evaluation = evaluate(&api, &flow.profile).await;
    let rep = requirement(&evaluation, "authorized_representative_1");
    assert_eq!(invalid_field(rep, "phone_number")["error_code"], 22217);

    // A valid North American number, and a number of another country, pass.
    for good in ["+14155550102", "+447700900123"] {
        set_phone(&api, rep_1, good).await;
        let evaluation = evaluate(&api, &flow.profile).await;
        assert_eq!(evaluation["status"], "compliant", "{good}: {evaluation}");
        let rep = requirement(&evaluation, "authorized_representative_1");
        assert_eq!(rep["error_code"], Value::Null);
        assert!(fields_of(&rep["valid"]).contains(&"phone_number"));
    }
    emulator.shutdown().await;
}

/// What the test's callback server received: the signature header and the decoded form.
type Received = (String, Vec<(String, String)>);

async fn callback_server() -> (
    String,
    mpsc::UnboundedReceiver<Received>,
    tokio::task::JoinHandle<()>,
) {
    async fn receive(
        State(tx): State<mpsc::UnboundedSender<Received>>,
        headers: HeaderMap,
        Form(params): Form<Vec<(String, String)>>,
    ) -> StatusCode {
        let signature = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let _ = tx.send((signature, params));
        StatusCode::NO_CONTENT
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/callbacks/status?tenant=acme",
        listener.local_addr().unwrap()
    );
    let app = Router::new()
        .route("/callbacks/status", post(receive))
        .with_state(tx);
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, rx, server)
}

/// Twilio's algorithm, computed independently of the emulator.
fn expected_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let data: String = std::iter::once(url.to_owned())
        .chain(sorted.iter().map(|(k, v)| format!("{k}{v}")))
        .collect();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn next_callback(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("a status callback arrives")
        .expect("the callback server runs")
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_compliant_profile_is_reviewed_approved_and_reported() {
    let emulator = start(EmulatorConfig::default().with_seed(3)).await.unwrap();
    let api = Api::new(&emulator);
    let (url, mut callbacks, server) = callback_server().await;
    let flow = create_parts(&api, "555 AnyStreet", Some(&url)).await;
    assign_all(&api, &flow, emulator.primary_profile_sid()).await;
    let number = emulator.phone_number_sids()[0].clone();
    api.create(
        &format!(
            "/v1/CustomerProfiles/{}/ChannelEndpointAssignments",
            flow.profile
        ),
        &[
            ("ChannelEndpointType", "phone-number"),
            ("ChannelEndpointSid", &number),
        ],
    )
    .await;

    let evaluation = evaluate(&api, &flow.profile).await;
    assert_eq!(evaluation["status"], "compliant", "{evaluation}");
    for result in evaluation["results"].as_array().unwrap() {
        assert_eq!(result["passed"], true);
        assert_eq!(result["error_code"], Value::Null);
        assert_eq!(result["invalid"], json!([]));
    }
    let business = requirement(&evaluation, "customer_profile_business_information");
    assert_eq!(business["valid"].as_array().unwrap().len(), 9);

    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    let submitted = api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(submitted.status, 200);
    assert_eq!(submitted.json["status"], "pending-review");
    assert_eq!(api.get(&path).await.json["status"], "in-review");
    // In review: no more edits.
    let edit = api.post(&path, &[("Email", "other@example.com")]).await;
    assert_eq!(edit.status, 400);
    let late_assignment = api
        .post(
            &format!("{path}/EntityAssignments"),
            &[("ObjectSid", &flow.business)],
        )
        .await;
    assert_eq!(late_assignment.status, 400);
    assert!(late_assignment.json["message"]
        .as_str()
        .unwrap()
        .contains("in-review"));

    emulator
        .decide(&flow.profile, Decision::Approve)
        .await
        .unwrap();
    let approved = api.get(&path).await;
    assert_eq!(approved.json["status"], "twilio-approved");
    assert!(approved.json["valid_until"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(emulator
        .decide(&flow.profile, Decision::Approve)
        .await
        .is_err());

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (signature, params) = next_callback(&mut callbacks).await;
        assert_eq!(
            signature,
            expected_signature(emulator.auth_token(), &url, &params),
            "signature of {params:?}"
        );
        assert_ne!(signature, expected_signature("wrong-token", &url, &params));
        assert_eq!(param(&params, "AccountSid"), Some(emulator.account_sid()));
        assert_eq!(param(&params, "BundleSid"), Some(flow.profile.as_str()));
        assert_eq!(param(&params, "FailureReason"), None);
        statuses.push(param(&params, "Status").unwrap().to_owned());
    }
    assert_eq!(statuses, ["pending-review", "in-review", "twilio-approved"]);

    let counters = emulator.counters();
    assert_eq!(counters.customer_profiles, 1);
    assert_eq!(counters.end_users, 3);
    assert_eq!(counters.addresses, 1);
    assert_eq!(counters.supporting_documents, 1);
    assert_eq!(counters.entity_assignments, 5);
    assert_eq!(counters.channel_endpoint_assignments, 1);
    assert_eq!(
        counters.evaluations, 1,
        "the fresh evaluation was reused at submission"
    );
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test]
async fn rejections_and_automatic_decisions_are_reported() {
    let emulator = start(
        EmulatorConfig::default().with_auto_decision(Duration::from_millis(20), Decision::Approve),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let (url, mut callbacks, server) = callback_server().await;

    // An empty profile is rejected at submission with a FailureReason.
    let empty = api
        .create_profile(
            "Empty",
            "e@example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            Some(&url),
        )
        .await;
    api.post(
        &format!("/v1/CustomerProfiles/{empty}"),
        &[("Status", "pending-review")],
    )
    .await;
    let (_, pending) = next_callback(&mut callbacks).await;
    assert_eq!(param(&pending, "Status"), Some("pending-review"));
    let (signature, rejected) = next_callback(&mut callbacks).await;
    assert_eq!(
        signature,
        expected_signature(emulator.auth_token(), &url, &rejected)
    );
    assert_eq!(param(&rejected, "Status"), Some("twilio-rejected"));
    assert!(param(&rejected, "FailureReason")
        .unwrap()
        .contains("Business Information End-User is missing"));
    assert_eq!(emulator.counters().evaluations, 1, "run at submission");

    // A compliant one is approved automatically.
    let flow = create_parts(&api, "1 Main St", Some(&url)).await;
    assign_all(&api, &flow, emulator.primary_profile_sid()).await;
    api.post(
        &format!("/v1/CustomerProfiles/{}", flow.profile),
        &[("Status", "pending-review")],
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (signature, params) = next_callback(&mut callbacks).await;
        assert_eq!(
            signature,
            expected_signature(emulator.auth_token(), &url, &params)
        );
        statuses.push(param(&params, "Status").unwrap().to_owned());
    }
    assert_eq!(statuses, ["pending-review", "in-review", "twilio-approved"]);

    // A draft cannot be decided.
    let second = create_parts(&api, "2 Main St", None).await;
    assign_all(&api, &second, emulator.primary_profile_sid()).await;
    let control = format!(
        "{}/__emulator/customer-profiles/{}/decision",
        emulator.base_url(),
        second.profile
    );
    let not_in_review = api
        .control_post(
            &control,
            "{\"decision\":\"reject\",\"reason\":\"Blurry documents\"}",
        )
        .await;
    assert_eq!(not_in_review.status(), 409);
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_control_endpoint_rejects_with_a_reason() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let flow = create_parts(&api, "1 Main St", None).await;
    assign_all(&api, &flow, emulator.primary_profile_sid()).await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(
        emulator.counters().evaluations,
        1,
        "no evaluation existed: one ran"
    );
    let control = format!(
        "{}/__emulator/customer-profiles/{}/decision",
        emulator.base_url(),
        flow.profile
    );
    let decided = api
        .control_post(
            &control,
            "{\"decision\":\"reject\",\"reason\":\"Blurry documents\"}",
        )
        .await;
    assert_eq!(decided.status(), 200);
    let body: Value = serde_json::from_slice(&decided.bytes().await.unwrap()).unwrap();
    assert_eq!(body["status"], "twilio-rejected");
    let rejected = api.get(&path).await;
    assert_eq!(rejected.json["status"], "twilio-rejected");
    assert_eq!(rejected.json["errors"][0]["code"], MANUAL_REJECTION_CODE);
    assert_eq!(rejected.json["errors"][0]["message"], "Blurry documents");
    let unknown = api
        .control_post(
            "/__emulator/customer-profiles/BU00000000000000000000000000000000/decision",
            "{\"decision\":\"approve\"}",
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let bad = api.control_post(&control, "{\"decision\":\"maybe\"}").await;
    assert_eq!(bad.status(), 400);
    emulator.shutdown().await;
}
