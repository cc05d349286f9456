//! Wire tests of the generated client: the exact requests of the Secondary Customer Profile flow
//! (method, path, headers, body bytes) as a local server receives them.

use crate::support;

use base64::Engine as _;
use futures_util::TryStreamExt as _;
use serde_json::json;
use support::{Canned, CaptureServer};
use trusthub_generated::runtime::{Credentials, RetryPolicy, Transport};
use trusthub_generated::Client;

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "wire-test-token";
const BU: &str = "BU0123456789abcdef0123456789abcdef";
const POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";

fn client(server: &CaptureServer) -> Client {
    let transport = Transport::builder()
        .credentials(Credentials::auth_token(ACCOUNT, TOKEN))
        .base_url_override(server.base_url.clone())
        .retry(RetryPolicy::none())
        .build()
        .expect("transport");
    Client::new(transport)
}

fn assert_common_headers(request: &support::Recorded, form: bool) {
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    assert_eq!(
        request.header("authorization"),
        Some(expected_auth.as_str())
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    let ua = request.header("user-agent").expect("a User-Agent");
    assert!(ua.contains(" rust/"), "User-Agent {ua}");
    assert!(ua.contains(std::env::consts::OS), "User-Agent {ua}");
    if form {
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    } else {
        assert_eq!(request.header("content-type"), None);
    }
}

#[tokio::test]
async fn the_flow_calls_go_out_byte_for_byte_as_documented() {
    let server = CaptureServer::start().await;
    for _ in 0..10 {
        server.answer(Canned::json(201, r#"{}"#));
    }
    let client = client(&server);

    // Step 1: the policy.
    client.policies().fetch(POLICY).send().await.unwrap();
    // Step 2: the bundle.
    client
        .customer_profiles()
        .create("Acme Corp", "compliance@acme.example", POLICY)
        .status_callback("https://example.com/callback?x=1")
        .send()
        .await
        .unwrap();
    // Step 3: business information (attributes as one JSON field).
    client
        .end_users()
        .create(
            "acme business info",
            "customer_profile_business_information",
        )
        .attributes(json!({
            "business_name": "acme business",
            "social_media_profile_urls": "",
            "website_url": "test.com",
            "business_regions_of_operation": "USA_AND_CANADA",
            "business_type": "Partnership",
            "business_registration_identifier": "DUNS",
            "business_identity": "direct_customer",
            "business_industry": "EDUCATION",
            "business_registration_number": "123456789"
        }))
        .send()
        .await
        .unwrap();
    // Step 5: the address (2010 API, account from the credentials).
    client
        .addresses()
        .create(
            "name",
            "555 AnyStreet",
            "Any City",
            "Any Region",
            "12345",
            "US",
        )
        .street_secondary("Apt B")
        .send()
        .await
        .unwrap();
    // Step 6: the supporting document.
    client
        .supporting_documents()
        .create("address", "customer_profile_address")
        .attributes(json!({ "address_sids": "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }))
        .send()
        .await
        .unwrap();
    // Step 7-8: assignments.
    client
        .customer_profiles()
        .entity_assignments(BU)
        .create("ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .send()
        .await
        .unwrap();
    client
        .customer_profiles()
        .channel_endpoint_assignments(BU)
        .create("phone-number", "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .send()
        .await
        .unwrap();
    // Step 9: evaluation.
    client
        .customer_profiles()
        .evaluations(BU)
        .create(POLICY)
        .send()
        .await
        .unwrap();
    // Step 10: submit.
    client
        .customer_profiles()
        .update(BU)
        .status(trusthub_generated::trusthub_v1::CustomerProfileStatus::PendingReview)
        .send()
        .await
        .unwrap();

    let requests = server.requests();
    let expected: [(&str, String, Option<&str>); 9] = [
        ("GET", format!("/v1/Policies/{POLICY}"), None),
        (
            "POST",
            "/v1/CustomerProfiles".into(),
            Some(
                "FriendlyName=Acme%20Corp&Email=compliance%40acme.example&PolicySid=RNdfbf3fae0e1107f8aded0e7cead80bf5&StatusCallback=https%3A%2F%2Fexample.com%2Fcallback%3Fx%3D1",
            ),
        ),
        (
            "POST",
            "/v1/EndUsers".into(),
            Some(
                "FriendlyName=acme%20business%20info&Type=customer_profile_business_information&Attributes=%7B%22business_name%22%3A%22acme%20business%22%2C%22social_media_profile_urls%22%3A%22%22%2C%22website_url%22%3A%22test.com%22%2C%22business_regions_of_operation%22%3A%22USA_AND_CANADA%22%2C%22business_type%22%3A%22Partnership%22%2C%22business_registration_identifier%22%3A%22DUNS%22%2C%22business_identity%22%3A%22direct_customer%22%2C%22business_industry%22%3A%22EDUCATION%22%2C%22business_registration_number%22%3A%22123456789%22%7D",
            ),
        ),
        (
            "POST",
            format!("/2010-04-01/Accounts/{ACCOUNT}/Addresses.json"),
            Some(
                "CustomerName=name&Street=555%20AnyStreet&City=Any%20City&Region=Any%20Region&PostalCode=12345&IsoCountry=US&StreetSecondary=Apt%20B",
            ),
        ),
        (
            "POST",
            "/v1/SupportingDocuments".into(),
            Some(
                "FriendlyName=address&Type=customer_profile_address&Attributes=%7B%22address_sids%22%3A%22ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%22%7D",
            ),
        ),
        (
            "POST",
            format!("/v1/CustomerProfiles/{BU}/EntityAssignments"),
            Some("ObjectSid=ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ),
        (
            "POST",
            format!("/v1/CustomerProfiles/{BU}/ChannelEndpointAssignments"),
            Some(
                "ChannelEndpointType=phone-number&ChannelEndpointSid=PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ),
        ),
        (
            "POST",
            format!("/v1/CustomerProfiles/{BU}/Evaluations"),
            Some("PolicySid=RNdfbf3fae0e1107f8aded0e7cead80bf5"),
        ),
        (
            "POST",
            format!("/v1/CustomerProfiles/{BU}"),
            Some("Status=pending-review"),
        ),
    ];
    assert_eq!(requests.len(), expected.len());
    for (request, (method, path, body)) in requests.iter().zip(expected) {
        assert_eq!(request.method, method, "{path}");
        assert_eq!(request.target, path);
        assert_common_headers(request, body.is_some());
        match body {
            Some(body) => assert_eq!(request.body_text(), body, "{path}"),
            None => assert!(request.body.is_empty(), "{path}"),
        }
    }
}

#[tokio::test]
async fn array_params_repeat_their_key_and_booleans_are_words() {
    let server = CaptureServer::start().await;
    server.answer(Canned::json(201, "{}"));
    client(&server)
        .compliance_tollfree_inquiries()
        .create("+18005550100", "ops@acme.example")
        .use_case_categories(["TWO_FACTOR_AUTHENTICATION", "MARKETING"])
        .skip_messaging_use_case(true)
        .send()
        .await
        .unwrap();
    let body = server.requests()[0].body_text();
    assert_eq!(
        body,
        "TollfreePhoneNumber=%2B18005550100&NotificationEmail=ops%40acme.example&UseCaseCategories=TWO_FACTOR_AUTHENTICATION&UseCaseCategories=MARKETING&SkipMessagingUseCase=true"
    );
}

#[tokio::test]
async fn a_string_attributes_value_is_sent_as_is() {
    let server = CaptureServer::start().await;
    server.answer(Canned::json(201, "{}"));
    client(&server)
        .end_users()
        .create("x", "authorized_representative_1")
        .attributes(r#"{"first_name":"a"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].body_text(),
        "FriendlyName=x&Type=authorized_representative_1&Attributes=%7B%22first_name%22%3A%22a%22%7D"
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_before_any_request() {
    let server = CaptureServer::start().await;
    let client = client(&server);
    let error = client
        .customer_profiles()
        .create("Acme", "a@b.example", "RNshort")
        .send()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("PolicySid"), "{text}");
    assert!(text.contains("^RN[0-9a-fA-F]{32}$"), "{text}");
    let error = client
        .policies()
        .list()
        .page_size(1001)
        .send()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("PageSize"), "{error}");
    let error = client
        .customer_profiles()
        .entity_assignments("BUnothex")
        .list()
        .send()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("CustomerProfileSid"), "{error}");
    assert!(
        server.requests().is_empty(),
        "no request may leave with a bad parameter"
    );
}

#[tokio::test]
async fn lists_page_through_both_envelopes() {
    let server = CaptureServer::start().await;
    let base = server.base_url.clone();
    // Trust Hub: meta.next_page_url, absolute.
    server.answer(Canned::json(200, &format!(
        r#"{{"results":[{{"sid":"RN00000000000000000000000000000001"}},{{"sid":"RN00000000000000000000000000000002"}}],
            "meta":{{"page":0,"page_size":2,"key":"results","next_page_url":"{base}/v1/Policies?PageSize=2&Page=1&PageToken=PT1"}}}}"#
    )));
    server.answer(Canned::json(200,
        r#"{"results":[{"sid":"RN00000000000000000000000000000003"}],"meta":{"page":1,"page_size":2,"key":"results","next_page_url":null}}"#,
    ));
    // 2010: next_page_uri, relative.
    server.answer(Canned::json(200, &format!(
        r#"{{"incoming_phone_numbers":[{{"sid":"PN00000000000000000000000000000001","date_created":"Tue, 18 Aug 2015 17:07:30 +0000"}}],
            "next_page_uri":"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PageSize=1&Page=1&PageToken=PA1","page":0,"page_size":1}}"#
    )));
    server.answer(Canned::json(200,
        r#"{"incoming_phone_numbers":[{"sid":"PN00000000000000000000000000000002"}],"next_page_uri":null,"page":1,"page_size":1}"#,
    ));
    let client = client(&server);
    let policies: Vec<_> = client
        .policies()
        .list()
        .page_size(2)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let sids: Vec<_> = policies.iter().map(|p| p.sid.unwrap()).collect();
    assert_eq!(sids.len(), 3);
    assert_eq!(sids[2], "RN00000000000000000000000000000003");
    let numbers: Vec<_> = client
        .incoming_phone_numbers()
        .list()
        .page_size(1)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[0].date_created.unwrap().year(), 2015);
    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        targets,
        vec![
            "/v1/Policies?PageSize=2".to_owned(),
            "/v1/Policies?PageSize=2&Page=1&PageToken=PT1".to_owned(),
            format!("/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PageSize=1"),
            format!(
                "/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PageSize=1&Page=1&PageToken=PA1"
            ),
        ]
    );
}

#[tokio::test]
async fn twilio_errors_decode_with_status_code_and_request_id() {
    let server = CaptureServer::start().await;
    server.answer(
        Canned::json(400, r#"{"code":20001,"message":"Missing required parameter FriendlyName in the post body","more_info":"https://www.twilio.com/docs/errors/20001","status":400}"#)
            .header("Twilio-Request-Id", "RQ0123"),
    );
    let error = client(&server)
        .end_users()
        .fetch("ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.code(), Some(20001));
    assert_eq!(error.request_id(), Some("RQ0123"));
    assert!(
        error
            .to_string()
            .contains("Missing required parameter FriendlyName"),
        "{error}"
    );
}

#[tokio::test]
async fn unknown_enum_values_are_kept() {
    let server = CaptureServer::start().await;
    server.answer(Canned::json(200, r#"{"sid":"BU0123456789abcdef0123456789abcdef","status":"twilio-paused","errors":[{"code":18601,"field":"x"}]}"#));
    let profile = client(&server)
        .customer_profiles()
        .fetch(BU)
        .send()
        .await
        .unwrap();
    use trusthub_generated::trusthub_v1::CustomerProfileStatus;
    assert_eq!(
        profile.status,
        Some(CustomerProfileStatus::Unlisted("twilio-paused".into()))
    );
    let errors = profile.errors.unwrap();
    assert_eq!(errors[0].code, Some(18601));
    assert_eq!(errors[0].extra.get("field"), Some(&json!("x")));
}

#[tokio::test]
async fn debug_output_of_models_redacts_personal_data() {
    let server = CaptureServer::start().await;
    server.answer(Canned::json(200, r#"{"sid":"ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","friendly_name":"Jane Roe","attributes":{"email":"jane@roe.example","phone_number":"+15551234567"}}"#));
    let user = client(&server)
        .end_users()
        .fetch("ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .send()
        .await
        .unwrap();
    let debug = format!("{user:?}");
    for secret in ["Jane Roe", "jane@roe.example", "+15551234567"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(
        debug.contains("ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        "{debug}"
    );
    let builder = client(&server)
        .end_users()
        .create("Jane Roe", "authorized_representative_1")
        .attributes(json!({"email": "jane@roe.example"}));
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains("Jane") && !debug.contains("jane@"),
        "{debug}"
    );
    assert!(debug.contains("Attributes"), "{debug}");
}

#[test]
fn every_operation_in_scope_is_generated() {
    let ids: Vec<&str> = trusthub_generated::operations().map(|o| o.id).collect();
    assert_eq!(ids.len(), 85);
    assert_eq!(trusthub_generated::trusthub_v1::operations::ALL.len(), 53);
    assert_eq!(trusthub_generated::messaging_v1::operations::ALL.len(), 25);
    for id in [
        "CreateAddress",
        "ListAddress",
        "FetchAddress",
        "UpdateAddress",
        "DeleteAddress",
        "ListIncomingPhoneNumber",
        "FetchIncomingPhoneNumber",
        "CreateCustomerProfile",
        "CreateCustomerProfileEvaluation",
        "ListPolicies",
        "CreateComplianceTollfreeInquiry",
        "CreateBrandRegistrations",
        "CreateBrandVetting",
        "CreateService",
        "CreatePhoneNumber",
        "CreateUsAppToPerson",
        "FetchUsAppToPersonUsecase",
        "CreateExternalCampaign",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    let hosts: std::collections::BTreeSet<&str> = trusthub_generated::operations()
        .map(|o| o.base_url)
        .collect();
    assert_eq!(
        hosts.into_iter().collect::<Vec<_>>(),
        [
            "https://api.twilio.com",
            "https://messaging.twilio.com",
            "https://trusthub.twilio.com"
        ]
    );
}
