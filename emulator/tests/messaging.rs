//! Messaging v1's A2P 10DLC resources over HTTP: the brand lifecycle (decisions, feedback, resubmissions
//! and their limit), the SMS OTP and vettings, Messaging Services and their phone numbers, campaigns and
//! their use cases, the parameter checks (each refusal names its parameter), automatic decisions, the fee
//! counter, faults on the new routes, and the A2P trust product's evaluation.

use crate::common;

use std::time::{Duration, Instant};

use common::{assign_all, create_parts, invalid_field, requirement, Api, Reply};
use serde_json::{json, Value};
use trusthub_emulator::{
    policies, start, DecideError, Decision, Emulator, EmulatorConfig, FaultKind, FaultRule, Faults,
    BRAND_REJECTION_CODE, CAMPAIGN_REJECTION_CODE, CODE_NUMBER_IN_ANOTHER_SERVICE,
    CODE_NUMBER_IN_THIS_SERVICE,
};

const BRANDS: &str = "/v1/a2p/BrandRegistrations";

/// A customer profile and an A2P trust product, both submitted (`in-review`).
pub(crate) struct A2p {
    pub(crate) profile: String,
    pub(crate) product: String,
}

/// Form pairs with owned values.
type Pairs = Vec<(&'static str, String)>;

/// Pairs with owned values as a form.
pub(crate) fn form<'a>(pairs: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `pairs` without `key`.
fn without(pairs: &[(&'static str, String)], key: &str) -> Vec<(&'static str, String)> {
    pairs.iter().filter(|(k, _)| *k != key).cloned().collect()
}

/// `pairs` with every `key` replaced by one `value`.
fn with(
    pairs: &[(&'static str, String)],
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut out = without(pairs, key);
    out.push((key, value.to_owned()));
    out
}

/// Asserts a 400 / 20001 whose message names `param` (and contains `needle`).
fn assert_names(reply: &Reply, param: &str, needle: &str) {
    assert_eq!(reply.status, 400, "{}", reply.json);
    assert_eq!(reply.code(), 20001, "{}", reply.json);
    assert!(
        reply.message().contains(param) && reply.message().contains(needle),
        "expected {param} and {needle:?} in {:?}",
        reply.message()
    );
}

/// A secondary customer profile with every part, submitted (`in-review`).
pub(crate) async fn submitted_profile(api: &Api, emulator: &Emulator, street: &str) -> String {
    let flow = create_parts(api, street, None).await;
    assign_all(api, &flow, emulator.primary_profile_sid()).await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(api.get(&path).await.json["status"], "in-review");
    flow.profile
}

/// An A2P trust product holding an A2P messaging profile with `attributes` and `profile` (when given),
/// not submitted.
async fn a2p_product(api: &Api, attributes: Value, profile: Option<&str>) -> String {
    let attributes = attributes.to_string();
    let user = api
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "a2p messaging profile"),
                ("Type", "us_a2p_messaging_profile_information"),
                ("Attributes", &attributes),
            ],
        )
        .await;
    let product = api
        .create(
            "/v1/TrustProducts",
            &[
                ("FriendlyName", "A2P"),
                ("Email", "a2p@acme.example.com"),
                ("PolicySid", policies::A2P_TRUST_PRODUCT),
            ],
        )
        .await;
    let assignments = format!("/v1/TrustProducts/{product}/EntityAssignments");
    api.create(&assignments, &[("ObjectSid", &user)]).await;
    if let Some(profile) = profile {
        api.create(&assignments, &[("ObjectSid", profile)]).await;
    }
    product
}

/// A submitted customer profile and a submitted, compliant A2P trust product.
pub(crate) async fn a2p(api: &Api, emulator: &Emulator) -> A2p {
    let profile = submitted_profile(api, emulator, "1 Main St").await;
    let product = a2p_product(api, json!({"company_type": "private"}), Some(&profile)).await;
    let path = format!("/v1/TrustProducts/{product}");
    api.post(&path, &[("Status", "pending-review")]).await;
    let reviewed = api.get(&path).await;
    assert_eq!(reviewed.json["status"], "in-review", "{}", reviewed.json);
    A2p { profile, product }
}

fn brand_form(a2p: &A2p) -> Vec<(&'static str, String)> {
    vec![
        ("CustomerProfileBundleSid", a2p.profile.clone()),
        ("A2PProfileBundleSid", a2p.product.clone()),
    ]
}

/// Creates a brand (asserting 201) with `extra` parameters; returns its SID.
pub(crate) async fn create_brand(api: &Api, a2p: &A2p, extra: &[(&'static str, &str)]) -> String {
    let mut pairs = brand_form(a2p);
    pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    api.create(BRANDS, &form(&pairs)).await
}

/// An approved STANDARD (or `brand_type`) brand.
async fn approved_brand(
    api: &Api,
    emulator: &Emulator,
    a2p: &A2p,
    extra: &[(&'static str, &str)],
) -> String {
    let brand = create_brand(api, a2p, extra).await;
    emulator
        .decide_brand(&brand, Decision::Approve)
        .await
        .expect("pending");
    brand
}

/// POSTs JSON to a control endpoint; returns status and body.
async fn control(api: &Api, path: &str, body: &str) -> (u16, Value) {
    let response = api.control_post(path, body).await;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Polls `path` until `field` equals `value` (at most 3 s).
async fn wait_for(api: &Api, path: &str, field: &str, value: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let reply = api.get(path).await;
        if reply.json[field] == value {
            return reply.json;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: {field} never became {value}: {}",
            reply.json
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) async fn create_service(api: &Api, name: &str) -> String {
    api.create("/v1/Services", &[("FriendlyName", name)]).await
}

/// A valid campaign form for `brand` and `usecase`.
pub(crate) fn campaign_form(brand: &str, usecase: &str) -> Vec<(&'static str, String)> {
    [
        ("BrandRegistrationSid", brand),
        (
            "Description",
            "Send order updates and sale announcements to opted-in customers.",
        ),
        (
            "MessageFlow",
            "Customers opt in on the checkout page by ticking an unchecked SMS box.",
        ),
        (
            "MessageSamples",
            "Your order 1234 has shipped and arrives Monday.",
        ),
        (
            "MessageSamples",
            "Spring sale: 20% off everything until Sunday!",
        ),
        ("UsAppToPersonUsecase", usecase),
        ("HasEmbeddedLinks", "false"),
        ("HasEmbeddedPhone", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

pub(crate) fn usa2p(service: &str) -> String {
    format!("/v1/Services/{service}/Compliance/Usa2p")
}

// =========================================================================================================
// Brands
// =========================================================================================================

#[tokio::test]
async fn brand_registrations_are_approved_or_rejected_with_reasons_and_feedback() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;

    let created = api.post(BRANDS, &form(&brand_form(&a2p))).await;
    assert_eq!(created.status, 201, "{}", created.json);
    let brand = created.json["sid"].as_str().unwrap().to_owned();
    assert!(brand.starts_with("BN"));
    assert_eq!(created.json["status"], "PENDING");
    assert_eq!(created.json["brand_type"], "STANDARD");
    assert_eq!(created.json["tcr_id"], Value::Null);
    assert_eq!(created.json["brand_score"], Value::Null);
    assert_eq!(created.json["failure_reason"], Value::Null);
    assert_eq!(created.json["errors"], json!([]));
    assert_eq!(created.json["brand_feedback"], json!([]));
    assert_eq!(created.json["mock"], false);
    let url = format!("{}{BRANDS}/{brand}", emulator.base_url());
    assert_eq!(created.json["url"], url);
    assert_eq!(
        created.json["links"]["brand_vettings"],
        format!("{url}/Vettings")
    );
    assert_eq!(
        created.json["links"]["brand_registration_otps"],
        format!("{url}/SmsOtp")
    );

    // Approved through the control endpoint.
    let decision = format!("/__emulator/brand-registrations/{brand}/decision");
    let (status, body) = control(&api, &decision, r#"{"decision":"approve"}"#).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("APPROVED")),
        "{body}"
    );
    let approved = api.get(&format!("{BRANDS}/{brand}")).await.json;
    assert_eq!(approved["status"], "APPROVED");
    let tcr = approved["tcr_id"].as_str().unwrap();
    assert_eq!(tcr.len(), 7, "{tcr}");
    assert!(tcr.starts_with('B'));
    assert!(tcr[1..]
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    assert_eq!(approved["brand_score"], 75);
    assert_eq!(approved["identity_status"], "VERIFIED");
    let (status, body) = control(&api, &decision, r#"{"decision":"reject"}"#).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], 20409);
    assert!(body["message"].as_str().unwrap().contains("APPROVED"));
    assert_eq!(
        emulator.decide_brand(&brand, Decision::Approve).await,
        Err(DecideError::BrandNotPending {
            sid: brand.clone(),
            status: String::from("APPROVED")
        })
    );

    // Rejected with a reason and feedback.
    let second = create_brand(&api, &a2p, &[]).await;
    let decision = format!("/__emulator/brand-registrations/{second}/decision");
    let (status, body) = control(
        &api,
        &decision,
        r#"{"decision":"reject","reason":"The tax ID does not match the business name","feedback":["TAX_ID","OTHERS"]}"#,
    )
    .await;
    assert_eq!((status, &body["status"]), (200, &json!("FAILED")), "{body}");
    let failed = api.get(&format!("{BRANDS}/{second}")).await.json;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(
        failed["failure_reason"],
        "The tax ID does not match the business name"
    );
    assert_eq!(failed["brand_feedback"], json!(["TAX_ID", "OTHERS"]));
    assert_eq!(failed["errors"][0]["error_code"], BRAND_REJECTION_CODE);
    assert_eq!(
        failed["errors"][0]["description"],
        "The tax ID does not match the business name"
    );
    assert_eq!(
        failed["errors"][0]["fields"],
        json!(["business_registration_number"])
    );
    assert_eq!(failed["tcr_id"], Value::Null);

    // The control endpoint's refusals.
    let (status, _) = control(
        &api,
        "/__emulator/brand-registrations/BN00000000000000000000000000000000/decision",
        r#"{"decision":"approve"}"#,
    )
    .await;
    assert_eq!(status, 404);
    let third = create_brand(&api, &a2p, &[]).await;
    let decision = format!("/__emulator/brand-registrations/{third}/decision");
    let (status, body) = control(
        &api,
        &decision,
        r#"{"decision":"reject","feedback":["POSTCODE"]}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("TAX_ID"));
    let (status, _) = control(&api, &decision, r#"{"decision":"maybe"}"#).await;
    assert_eq!(status, 400);
    assert_eq!(
        emulator
            .decide_brand("BN00000000000000000000000000000000", Decision::Approve)
            .await,
        Err(DecideError::UnknownBrand(String::from(
            "BN00000000000000000000000000000000"
        )))
    );
    emulator
        .decide_brand(
            &third,
            Decision::Reject {
                reason: String::from("Website unreachable"),
            },
        )
        .await
        .unwrap();
    let failed = api.get(&format!("{BRANDS}/{third}")).await.json;
    assert_eq!(failed["errors"][0]["description"], "Website unreachable");
    assert_eq!(failed["brand_feedback"], json!([]));

    let list = api.get(&format!("{BRANDS}?PageSize=2")).await.json;
    assert_eq!(list["meta"]["key"], "data");
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert!(list["meta"]["next_page_url"]
        .as_str()
        .unwrap()
        .starts_with(&emulator.base_url()));
    assert_eq!(emulator.counters().brand_registrations, 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn failed_brands_are_resubmitted_up_to_the_limit() {
    let emulator = start(EmulatorConfig::default().with_max_brand_resubmissions(2))
        .await
        .unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let brand = create_brand(&api, &a2p, &[]).await;
    let path = format!("{BRANDS}/{brand}");

    // Only a FAILED brand can be resubmitted.
    let pending = api.post(&path, &[]).await;
    assert_eq!(pending.status, 400);
    assert!(
        pending
            .message()
            .contains("only FAILED brands can be updated"),
        "{}",
        pending.message()
    );

    let reject = Decision::Reject {
        reason: String::from("Address mismatch"),
    };
    for round in 1..=2u64 {
        emulator.decide_brand(&brand, reject.clone()).await.unwrap();
        let resubmitted = api.post(&path, &[]).await;
        assert_eq!(resubmitted.status, 202, "{}", resubmitted.json);
        assert_eq!(resubmitted.json["status"], "PENDING");
        assert_eq!(resubmitted.json["errors"], json!([]));
        assert_eq!(resubmitted.json["brand_feedback"], json!([]));
        assert_eq!(resubmitted.json["failure_reason"], Value::Null);
        assert_eq!(emulator.counters().brand_resubmissions, round);
    }
    emulator.decide_brand(&brand, reject.clone()).await.unwrap();
    let refused = api.post(&path, &[]).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.message().contains("resubmitted 2 time(s)")
            && refused.message().contains("cannot be resubmitted again"),
        "{}",
        refused.message()
    );
    assert_eq!(api.get(&path).await.json["status"], "FAILED");

    // An approved brand cannot be resubmitted either.
    let other = approved_brand(&api, &emulator, &a2p, &[]).await;
    let approved = api.post(&format!("{BRANDS}/{other}"), &[]).await;
    assert_eq!(approved.status, 400);
    assert!(approved.message().contains("is APPROVED"));

    let counters = emulator.counters();
    assert_eq!(counters.brand_registrations, 2);
    assert_eq!(counters.brand_resubmissions, 2);
    assert_eq!(counters.fees, 4);
    emulator.shutdown().await;
}

#[tokio::test]
async fn brand_parameters_and_bundles_are_checked_naming_the_parameter() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let base = brand_form(&a2p);

    let reply = api
        .post(BRANDS, &form(&without(&base, "CustomerProfileBundleSid")))
        .await;
    assert_names(&reply, "CustomerProfileBundleSid", "Missing");
    let reply = api
        .post(BRANDS, &form(&without(&base, "A2PProfileBundleSid")))
        .await;
    assert_names(&reply, "A2PProfileBundleSid", "Missing");
    let reply = api
        .post(
            BRANDS,
            &form(&with(&base, "CustomerProfileBundleSid", "BUshort")),
        )
        .await;
    assert_names(&reply, "CustomerProfileBundleSid", "^BU[0-9a-fA-F]{32}$");
    let reply = api
        .post(
            BRANDS,
            &form(&with(
                &base,
                "CustomerProfileBundleSid",
                "BU00000000000000000000000000000000",
            )),
        )
        .await;
    assert_names(&reply, "CustomerProfileBundleSid", "no customer profile");
    // A trust product is not a customer profile, and the other way round.
    let reply = api
        .post(
            BRANDS,
            &form(&with(&base, "CustomerProfileBundleSid", &a2p.product)),
        )
        .await;
    assert_names(&reply, "CustomerProfileBundleSid", "no customer profile");
    let reply = api
        .post(
            BRANDS,
            &form(&with(&base, "A2PProfileBundleSid", &a2p.profile)),
        )
        .await;
    assert_names(&reply, "A2PProfileBundleSid", "no trust product");
    // A draft customer profile.
    let draft = api
        .create_profile(
            "Draft",
            "d@example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            None,
        )
        .await;
    let reply = api
        .post(
            BRANDS,
            &form(&with(&base, "CustomerProfileBundleSid", &draft)),
        )
        .await;
    assert_names(&reply, "CustomerProfileBundleSid", "is draft");
    // A draft A2P trust product, and one under another policy.
    let draft_product = a2p_product(&api, json!({"company_type": "private"}), None).await;
    let reply = api
        .post(
            BRANDS,
            &form(&with(&base, "A2PProfileBundleSid", &draft_product)),
        )
        .await;
    assert_names(&reply, "A2PProfileBundleSid", "is draft");
    let shaken = api
        .create(
            "/v1/TrustProducts",
            &[
                ("FriendlyName", "SHAKEN"),
                ("Email", "s@example.com"),
                ("PolicySid", policies::SHAKEN_STIR),
            ],
        )
        .await;
    api.create(
        &format!("/v1/TrustProducts/{shaken}/EntityAssignments"),
        &[("ObjectSid", emulator.primary_profile_sid())],
    )
    .await;
    api.post(
        &format!("/v1/TrustProducts/{shaken}"),
        &[("Status", "pending-review")],
    )
    .await;
    let reply = api
        .post(BRANDS, &form(&with(&base, "A2PProfileBundleSid", &shaken)))
        .await;
    assert_names(&reply, "A2PProfileBundleSid", policies::A2P_TRUST_PRODUCT);
    // BrandType, the low-volume rule and the booleans.
    let reply = api
        .post(BRANDS, &form(&with(&base, "BrandType", "STARTER")))
        .await;
    assert_names(&reply, "BrandType", "LOW_VOLUME_STANDARD");
    let reply = api
        .post(
            BRANDS,
            &form(&with(&base, "BrandType", "LOW_VOLUME_STANDARD")),
        )
        .await;
    assert_names(&reply, "SkipAutomaticSecVet", "LOW_VOLUME_STANDARD");
    let low = with(
        &with(&base, "BrandType", "LOW_VOLUME_STANDARD"),
        "SkipAutomaticSecVet",
        "false",
    );
    let reply = api.post(BRANDS, &form(&low)).await;
    assert_names(&reply, "SkipAutomaticSecVet", "true");
    let reply = api.post(BRANDS, &form(&with(&base, "Mock", "yes"))).await;
    assert_names(&reply, "Mock", "true or false");
    let reply = api
        .post(BRANDS, &form(&with(&base, "SkipAutomaticSecVet", "1")))
        .await;
    assert_names(&reply, "SkipAutomaticSecVet", "true or false");
    assert_eq!(
        emulator.counters().brand_registrations,
        0,
        "nothing created"
    );

    // Accepted: low volume with the skip, sole proprietor, and a second brand for the same trust product
    // (Twilio creates and charges it: the client must avoid it, the counters show it).
    let low = with(&low, "SkipAutomaticSecVet", "true");
    let reply = api.post(BRANDS, &form(&low)).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["brand_type"], "LOW_VOLUME_STANDARD");
    assert_eq!(reply.json["skip_automatic_sec_vet"], true);
    create_brand(&api, &a2p, &[("BrandType", "SOLE_PROPRIETOR")]).await;
    create_brand(&api, &a2p, &[]).await;
    let counters = emulator.counters();
    assert_eq!(counters.brand_registrations, 3);
    assert_eq!(counters.fees, 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn otp_and_vettings_follow_the_brand() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let standard = create_brand(&api, &a2p, &[]).await;
    let sole = create_brand(&api, &a2p, &[("BrandType", "SOLE_PROPRIETOR")]).await;

    let otp = api.post(&format!("{BRANDS}/{standard}/SmsOtp"), &[]).await;
    assert_eq!(otp.status, 400);
    assert!(
        otp.message().contains("SOLE_PROPRIETOR brands only"),
        "{}",
        otp.message()
    );
    let otp = api.post(&format!("{BRANDS}/{sole}/SmsOtp"), &[]).await;
    assert_eq!(otp.status, 201, "{}", otp.json);
    assert_eq!(
        otp.json,
        json!({"account_sid": emulator.account_sid(), "brand_registration_sid": sole})
    );

    let vettings = format!("{BRANDS}/{standard}/Vettings");
    let reply = api.post(&vettings, &[]).await;
    assert_names(&reply, "VettingProvider", "Missing");
    let reply = api.post(&vettings, &[("VettingProvider", "aegis")]).await;
    assert_names(&reply, "VettingProvider", "campaign-verify");
    let reply = api.post(&vettings, &[("VettingProvider", "vetter")]).await;
    assert_names(&reply, "VettingProvider", "not one of");
    let reply = api
        .post(&vettings, &[("VettingProvider", "campaign-verify")])
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("APPROVED brand only"),
        "{}",
        reply.message()
    );

    emulator
        .decide_brand(&standard, Decision::Approve)
        .await
        .unwrap();
    let created = api
        .post(
            &vettings,
            &[
                ("VettingProvider", "campaign-verify"),
                ("VettingId", "cv|1.0|tcr|10dlc|token"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let vetting = created.json["brand_vetting_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(vetting.starts_with("VT"), "{vetting}");
    assert_eq!(created.json["vetting_status"], "IN_PROGRESS");
    assert_eq!(created.json["vetting_class"], "POLITICAL");
    let path = format!("{vettings}/{vetting}");
    wait_for(&api, &path, "vetting_status", "SUCCESS").await;
    let list = api.get(&format!("{vettings}?VettingProvider=aegis")).await;
    assert_eq!(list.json["data"], json!([]));
    let list = api.get(&vettings).await;
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!("{BRANDS}/{sole}/Vettings/{vetting}"))
            .await
            .status,
        404,
        "another brand's vetting"
    );
    let counters = emulator.counters();
    assert_eq!(counters.brand_vettings, 1);
    assert_eq!(counters.fees, 3);
    emulator.shutdown().await;
}

// =========================================================================================================
// Services and phone numbers
// =========================================================================================================

#[tokio::test]
async fn services_store_echo_and_check_their_settings() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let reply = api.post("/v1/Services", &[]).await;
    assert_names(&reply, "FriendlyName", "Missing");
    let long = "x".repeat(65);
    let reply = api.post("/v1/Services", &[("FriendlyName", &long)]).await;
    assert_names(&reply, "FriendlyName", "64");
    for (param, value, needle) in [
        ("InboundRequestUrl", "not a url", "http"),
        ("InboundMethod", "PUT", "not one of"),
        ("FallbackMethod", "DELETE", "not one of"),
        ("StatusCallback", "ftp://x.example.com", "http"),
        ("StickySender", "maybe", "true or false"),
        ("ScanMessageContent", "always", "not one of"),
        ("ValidityPeriod", "0", "1 to 36000"),
        ("ValidityPeriod", "36001", "1 to 36000"),
        ("Usecase", "spam", "not one of"),
        ("UseInboundWebhookOnNumber", "on", "true or false"),
    ] {
        let reply = api
            .post("/v1/Services", &[("FriendlyName", "x"), (param, value)])
            .await;
        assert_names(&reply, param, needle);
    }

    let created = api
        .post(
            "/v1/Services",
            &[
                ("FriendlyName", "Acme"),
                ("InboundRequestUrl", "https://acme.example.com/in"),
                ("InboundMethod", "GET"),
                ("StickySender", "false"),
                ("ValidityPeriod", "600"),
                ("Usecase", "notifications"),
                ("UseInboundWebhookOnNumber", "true"),
                ("ScanMessageContent", "disable"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let service = created.json["sid"].as_str().unwrap().to_owned();
    assert!(service.starts_with("MG"));
    let body = &created.json;
    assert_eq!(body["friendly_name"], "Acme");
    assert_eq!(body["inbound_request_url"], "https://acme.example.com/in");
    assert_eq!(body["inbound_method"], "GET");
    assert_eq!(body["fallback_method"], "POST", "Twilio's default");
    assert_eq!(body["sticky_sender"], false);
    assert_eq!(body["mms_converter"], true, "Twilio's default");
    assert_eq!(body["validity_period"], 600);
    assert_eq!(body["usecase"], "notifications");
    assert_eq!(body["use_inbound_webhook_on_number"], true);
    assert_eq!(body["scan_message_content"], "disable");
    assert_eq!(body["us_app_to_person_registered"], false);
    let url = format!("{}/v1/Services/{service}", emulator.base_url());
    assert_eq!(
        body["links"]["phone_numbers"],
        format!("{url}/PhoneNumbers")
    );
    assert_eq!(
        body["links"]["us_app_to_person"],
        format!("{url}/Compliance/Usa2p")
    );

    let path = format!("/v1/Services/{service}");
    let updated = api
        .post(
            &path,
            &[
                ("FriendlyName", "Acme two"),
                ("InboundRequestUrl", ""),
                ("AreaCodeGeomatch", "false"),
            ],
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["friendly_name"], "Acme two");
    assert_eq!(updated.json["inbound_request_url"], Value::Null);
    assert_eq!(updated.json["area_code_geomatch"], false);
    assert_eq!(updated.json["validity_period"], 600, "unchanged");
    let reply = api.post(&path, &[("FriendlyName", " ")]).await;
    assert_names(&reply, "FriendlyName", "empty");

    let list = api.get("/v1/Services").await.json;
    assert_eq!(list["meta"]["key"], "services");
    assert_eq!(list["services"][0]["sid"], service.as_str());
    assert_eq!(
        api.get("/v1/Services/MG00000000000000000000000000000000")
            .await
            .status,
        404
    );
    assert_eq!(api.delete(&path).await.status, 204);
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(emulator.counters().messaging_services, 1);
    assert_eq!(emulator.counters().fees, 0, "a service costs nothing");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_phone_number_joins_one_service() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let phones = emulator.phone_number_sids();
    let first = create_service(&api, "First").await;
    let second = create_service(&api, "Second").await;
    let numbers = format!("/v1/Services/{first}/PhoneNumbers");

    let reply = api.post(&numbers, &[]).await;
    assert_names(&reply, "PhoneNumberSid", "Missing");
    let reply = api.post(&numbers, &[("PhoneNumberSid", "PN123")]).await;
    assert_names(&reply, "PhoneNumberSid", "^PN[0-9a-fA-F]{32}$");
    let reply = api
        .post(
            &numbers,
            &[("PhoneNumberSid", "PN00000000000000000000000000000000")],
        )
        .await;
    assert_names(&reply, "PhoneNumberSid", "no phone number");

    let added = api.post(&numbers, &[("PhoneNumberSid", &phones[0])]).await;
    assert_eq!(added.status, 201, "{}", added.json);
    assert_eq!(added.json["sid"], phones[0].as_str());
    assert_eq!(added.json["service_sid"], first.as_str());
    assert_eq!(added.json["phone_number"], "+15555550001");
    assert_eq!(added.json["country_code"], "US");
    assert_eq!(added.json["capabilities"], json!(["MMS", "SMS", "Voice"]));

    let again = api.post(&numbers, &[("PhoneNumberSid", &phones[0])]).await;
    assert_eq!(again.status, 409, "{}", again.json);
    assert_eq!(again.code(), u64::from(CODE_NUMBER_IN_THIS_SERVICE));
    assert!(again.message().contains(&first), "{}", again.message());
    let elsewhere = api
        .post(
            &format!("/v1/Services/{second}/PhoneNumbers"),
            &[("PhoneNumberSid", &phones[0])],
        )
        .await;
    assert_eq!(elsewhere.status, 409, "{}", elsewhere.json);
    assert_eq!(elsewhere.code(), u64::from(CODE_NUMBER_IN_ANOTHER_SERVICE));
    assert!(elsewhere.message().contains("another Messaging Service"));

    // Listed in the numbers' order, whatever the order they joined in.
    api.create(&numbers, &[("PhoneNumberSid", &phones[2])])
        .await;
    api.create(&numbers, &[("PhoneNumberSid", &phones[1])])
        .await;
    let page = api.get(&format!("{numbers}?PageSize=2")).await.json;
    assert_eq!(page["meta"]["key"], "phone_numbers");
    let sids: Vec<&str> = page["phone_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, [phones[0].as_str(), phones[1].as_str()]);
    let next = page["meta"]["next_page_url"].as_str().unwrap().to_owned();
    let rest = api.get(&next).await.json;
    assert_eq!(rest["phone_numbers"][0]["sid"], phones[2].as_str());

    // Removed, a number can join another service; deleting a service frees its numbers.
    assert_eq!(
        api.delete(&format!("{numbers}/{}", phones[0])).await.status,
        204
    );
    assert_eq!(
        api.get(&format!("{numbers}/{}", phones[0])).await.status,
        404
    );
    api.create(
        &format!("/v1/Services/{second}/PhoneNumbers"),
        &[("PhoneNumberSid", &phones[0])],
    )
    .await;
    assert_eq!(
        api.delete(&format!("/v1/Services/{first}")).await.status,
        204
    );
    api.create(
        &format!("/v1/Services/{second}/PhoneNumbers"),
        &[("PhoneNumberSid", &phones[1])],
    )
    .await;
    assert_eq!(emulator.counters().messaging_service_phone_numbers, 5);
    emulator.shutdown().await;
}

// =========================================================================================================
// Campaigns
// =========================================================================================================

#[tokio::test]
async fn campaign_parameters_are_checked_naming_the_parameter() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let brand = approved_brand(&api, &emulator, &a2p, &[]).await;
    let service = create_service(&api, "Campaigns").await;
    let path = usa2p(&service);
    let base = campaign_form(&brand, "MARKETING");

    for param in [
        "BrandRegistrationSid",
        "Description",
        "MessageFlow",
        "MessageSamples",
        "UsAppToPersonUsecase",
        "HasEmbeddedLinks",
        "HasEmbeddedPhone",
    ] {
        let reply = api.post(&path, &form(&without(&base, param))).await;
        assert_names(&reply, param, "Missing");
    }
    let short = "s".repeat(39);
    let cases: Vec<(Pairs, &str, &str)> = vec![
        (
            with(&base, "BrandRegistrationSid", "BNxyz"),
            "BrandRegistrationSid",
            "^BN",
        ),
        (
            with(&base, "Description", &short),
            "Description",
            "40 to 4096",
        ),
        (
            with(&base, "Description", &"d".repeat(4097)),
            "Description",
            "40 to 4096",
        ),
        (
            with(&base, "MessageFlow", &short),
            "MessageFlow",
            "40 to 2048",
        ),
        (
            with(&base, "MessageFlow", &"f".repeat(2049)),
            "MessageFlow",
            "40 to 2048",
        ),
        (
            with(&base, "MessageSamples", "Only one sample of enough length."),
            "MessageSamples",
            "2 to 5",
        ),
        (
            {
                let mut six = without(&base, "MessageSamples");
                for i in 0..6 {
                    six.push((
                        "MessageSamples",
                        format!("Sample number {i} of the campaign."),
                    ));
                }
                six
            },
            "MessageSamples",
            "2 to 5",
        ),
        (
            {
                let mut pairs = without(&base, "MessageSamples");
                pairs.push(("MessageSamples", String::from("A sample long enough here.")));
                pairs.push(("MessageSamples", String::from("Too short")));
                pairs
            },
            "MessageSamples",
            "sample 2",
        ),
        (
            {
                let mut pairs = without(&base, "MessageSamples");
                pairs.push(("MessageSamples", String::from("A sample long enough here.")));
                pairs.push(("MessageSamples", "m".repeat(1025)));
                pairs
            },
            "MessageSamples",
            "20 to 1024",
        ),
        (
            with(&base, "HasEmbeddedLinks", "yes"),
            "HasEmbeddedLinks",
            "true or false",
        ),
        (
            with(&base, "HasEmbeddedPhone", "1"),
            "HasEmbeddedPhone",
            "true or false",
        ),
        (
            with(&base, "OptInMessage", "Too short"),
            "OptInMessage",
            "20 to 320",
        ),
        (
            with(&base, "OptOutMessage", &"o".repeat(321)),
            "OptOutMessage",
            "20 to 320",
        ),
        (
            with(&base, "HelpMessage", "Help: short"),
            "HelpMessage",
            "20 to 320",
        ),
        (
            with(&base, "OptInKeywords", "START,YES"),
            "OptInKeywords",
            "alphanumeric",
        ),
        (
            with(&base, "OptOutKeywords", "STOP!"),
            "OptOutKeywords",
            "alphanumeric",
        ),
        (
            with(&base, "HelpKeywords", &"H".repeat(256)),
            "HelpKeywords",
            "1 to 255",
        ),
        (
            with(&base, "SubscriberOptIn", "sure"),
            "SubscriberOptIn",
            "true or false",
        ),
        (with(&base, "AgeGated", "no"), "AgeGated", "true or false"),
        (
            with(&base, "DirectLending", "nope"),
            "DirectLending",
            "true or false",
        ),
        (
            with(&base, "UsAppToPersonUsecase", "SOLE_PROPRIETOR"),
            "UsAppToPersonUsecase",
            "STANDARD brand",
        ),
        (
            with(&base, "UsAppToPersonUsecase", "LOW_VOLUME"),
            "UsAppToPersonUsecase",
            "MARKETING",
        ),
        (
            with(
                &base,
                "BrandRegistrationSid",
                "BN00000000000000000000000000000000",
            ),
            "BrandRegistrationSid",
            "no brand registration",
        ),
    ];
    for (pairs, param, needle) in &cases {
        let reply = api.post(&path, &form(pairs)).await;
        assert_names(&reply, param, needle);
    }
    assert_eq!(emulator.counters().campaigns, 0, "nothing created");

    // Everything at once, the keyword arrays repeated.
    let mut full = base.clone();
    full.extend([
        (
            "OptInMessage",
            String::from("Acme: you are opted in. Reply STOP to stop."),
        ),
        (
            "OptOutMessage",
            String::from("Acme: you are opted out and get no more messages."),
        ),
        (
            "HelpMessage",
            String::from("Acme: write to help@acme.example.com for help."),
        ),
        ("OptInKeywords", String::from("START")),
        ("OptInKeywords", String::from("YES")),
        ("OptOutKeywords", String::from("STOP")),
        ("HelpKeywords", String::from("HELP")),
        ("SubscriberOptIn", String::from("true")),
        ("AgeGated", String::from("false")),
        ("DirectLending", String::from("true")),
    ]);
    let created = api.post(&path, &form(&full)).await;
    assert_eq!(created.status, 201, "{}", created.json);
    let c = &created.json;
    assert!(c["sid"].as_str().unwrap().starts_with("QE"));
    assert_eq!(c["campaign_status"], "IN_PROGRESS");
    let id = c["campaign_id"].as_str().unwrap();
    assert!(id.len() == 7 && id.starts_with('C'), "{id}");
    assert_eq!(c["brand_registration_sid"], brand.as_str());
    assert_eq!(c["messaging_service_sid"], service.as_str());
    assert_eq!(c["us_app_to_person_usecase"], "MARKETING");
    assert_eq!(c["message_samples"].as_array().unwrap().len(), 2);
    assert_eq!(c["opt_in_keywords"], json!(["START", "YES"]));
    assert_eq!(c["help_keywords"], json!(["HELP"]));
    assert_eq!(c["subscriber_opt_in"], true);
    assert_eq!(c["direct_lending"], true);
    assert_eq!(c["is_externally_registered"], false);
    assert_eq!(c["mock"], false);
    assert_eq!(c["errors"], json!([]));
    assert!(c["rate_limits"].is_object());
    assert_eq!(emulator.counters().campaigns, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn campaigns_need_an_approved_brand_and_a_use_case_of_its_type() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let pending = create_brand(&api, &a2p, &[]).await;
    let service = create_service(&api, "One").await;
    let reply = api
        .post(
            &usa2p(&service),
            &form(&campaign_form(&pending, "MARKETING")),
        )
        .await;
    assert_names(&reply, "BrandRegistrationSid", "not approved");
    let failed = create_brand(&api, &a2p, &[]).await;
    emulator
        .decide_brand(
            &failed,
            Decision::Reject {
                reason: String::from("No"),
            },
        )
        .await
        .unwrap();
    let reply = api
        .post(
            &usa2p(&service),
            &form(&campaign_form(&failed, "MARKETING")),
        )
        .await;
    assert_names(
        &reply,
        "BrandRegistrationSid",
        "not approved (it is FAILED)",
    );

    // A low-volume brand may use LOW_VOLUME; a sole proprietor brand only SOLE_PROPRIETOR, once.
    let low = approved_brand(
        &api,
        &emulator,
        &a2p,
        &[
            ("BrandType", "LOW_VOLUME_STANDARD"),
            ("SkipAutomaticSecVet", "true"),
        ],
    )
    .await;
    api.create(&usa2p(&service), &form(&campaign_form(&low, "LOW_VOLUME")))
        .await;
    let sole = approved_brand(&api, &emulator, &a2p, &[("BrandType", "SOLE_PROPRIETOR")]).await;
    let sole_service = create_service(&api, "Sole").await;
    let reply = api
        .post(
            &usa2p(&sole_service),
            &form(&campaign_form(&sole, "MARKETING")),
        )
        .await;
    assert_names(&reply, "UsAppToPersonUsecase", "SOLE_PROPRIETOR");
    let campaign = api
        .post(
            &usa2p(&sole_service),
            &form(&campaign_form(&sole, "SOLE_PROPRIETOR")),
        )
        .await;
    assert_eq!(campaign.status, 201, "{}", campaign.json);
    assert_eq!(campaign.json["rate_limits"]["tmobile"]["brand_tier"], "LOW");
    let other_service = create_service(&api, "Sole again").await;
    let reply = api
        .post(
            &usa2p(&other_service),
            &form(&campaign_form(&sole, "SOLE_PROPRIETOR")),
        )
        .await;
    assert_names(
        &reply,
        "BrandRegistrationSid",
        "already has its one campaign",
    );
    assert_eq!(emulator.counters().campaigns, 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_service_holds_one_campaign() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let brand = approved_brand(&api, &emulator, &a2p, &[]).await;
    let service = create_service(&api, "One campaign").await;
    let first = api
        .create(&usa2p(&service), &form(&campaign_form(&brand, "MARKETING")))
        .await;
    let second = api
        .post(&usa2p(&service), &form(&campaign_form(&brand, "2FA")))
        .await;
    assert_eq!(second.status, 400, "{}", second.json);
    assert!(
        second
            .message()
            .contains("a Messaging Service holds one campaign")
            && second.message().contains(&first),
        "{}",
        second.message()
    );
    // A preregistered campaign counts as the service's campaign too.
    let external = api
        .post(
            "/v1/Services/PreregisteredUsa2p",
            &[("CampaignId", "CABC123"), ("MessagingServiceSid", &service)],
        )
        .await;
    assert_eq!(external.status, 400);
    assert!(external.message().contains("holds one campaign"));
    let reply = api
        .post(
            "/v1/Services/PreregisteredUsa2p",
            &[("MessagingServiceSid", &service)],
        )
        .await;
    assert_names(&reply, "CampaignId", "Missing");
    let reply = api
        .post(
            "/v1/Services/PreregisteredUsa2p",
            &[
                ("CampaignId", "CABC123"),
                ("MessagingServiceSid", "MG00000000000000000000000000000000"),
            ],
        )
        .await;
    assert_names(&reply, "MessagingServiceSid", "no Messaging Service");

    // Deleted, the campaign frees its service; deleting a service deletes its campaign.
    assert_eq!(
        api.delete(&format!("{}/{first}", usa2p(&service)))
            .await
            .status,
        204
    );
    let external = api
        .post(
            "/v1/Services/PreregisteredUsa2p",
            &[("CampaignId", "CABC123"), ("MessagingServiceSid", &service)],
        )
        .await;
    assert_eq!(external.status, 201, "{}", external.json);
    let external_sid = external.json["sid"].as_str().unwrap().to_owned();
    let listed = api.get(&usa2p(&service)).await.json;
    assert_eq!(listed["meta"]["key"], "compliance");
    assert_eq!(listed["compliance"][0]["sid"], external_sid.as_str());
    assert_eq!(listed["compliance"][0]["is_externally_registered"], true);
    assert_eq!(listed["compliance"][0]["campaign_id"], "CABC123");
    assert_eq!(listed["compliance"][0]["campaign_status"], "VERIFIED");
    assert_eq!(
        api.get(&format!("/v1/Services/{service}")).await.json["us_app_to_person_registered"],
        true
    );
    assert_eq!(
        api.delete(&format!("/v1/Services/{service}")).await.status,
        204
    );
    let again = create_service(&api, "Again").await;
    api.create(&usa2p(&again), &form(&campaign_form(&brand, "MARKETING")))
        .await;
    assert_eq!(emulator.counters().campaigns, 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn campaigns_are_verified_or_rejected_and_failed_ones_updated() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let brand = approved_brand(&api, &emulator, &a2p, &[]).await;
    let service = create_service(&api, "Lifecycle").await;
    let campaign = api
        .create(&usa2p(&service), &form(&campaign_form(&brand, "MARKETING")))
        .await;
    let path = format!("{}/{campaign}", usa2p(&service));
    let mut update = without(
        &without(&campaign_form(&brand, "MARKETING"), "BrandRegistrationSid"),
        "UsAppToPersonUsecase",
    );
    update.push(("AgeGated", String::from("false")));
    update.push(("DirectLending", String::from("false")));

    let busy = api.post(&path, &form(&update)).await;
    assert_eq!(busy.status, 400);
    assert!(busy.message().contains("IN_PROGRESS"), "{}", busy.message());
    for param in ["AgeGated", "DirectLending", "Description", "MessageSamples"] {
        let reply = api.post(&path, &form(&without(&update, param))).await;
        assert_names(&reply, param, "Missing");
    }

    let decision = format!("/__emulator/campaigns/{campaign}/decision");
    let (status, body) = control(
        &api,
        &decision,
        r#"{"decision":"reject","reason":"Opt-in flow unclear"}"#,
    )
    .await;
    assert_eq!((status, &body["status"]), (200, &json!("FAILED")), "{body}");
    let failed = api.get(&path).await.json;
    assert_eq!(failed["campaign_status"], "FAILED");
    assert_eq!(failed["errors"][0]["error_code"], CAMPAIGN_REJECTION_CODE);
    assert_eq!(failed["errors"][0]["description"], "Opt-in flow unclear");
    let (status, _) = control(&api, &decision, r#"{"decision":"approve"}"#).await;
    assert_eq!(status, 409);
    let (status, _) = control(
        &api,
        "/__emulator/campaigns/QE00000000000000000000000000000000/decision",
        r#"{"decision":"approve"}"#,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = control(&api, &decision, r#"{"decision":"approve","feedback":[]}"#).await;
    assert_eq!(status, 400, "campaigns take no feedback");

    // Updating a FAILED campaign resubmits it.
    let mut changed = with(
        &update,
        "MessageFlow",
        "Customers opt in by texting JOIN to our number; the reply confirms it.",
    );
    changed = with(&changed, "DirectLending", "true");
    let updated = api.post(&path, &form(&changed)).await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["campaign_status"], "IN_PROGRESS");
    assert_eq!(updated.json["errors"], json!([]));
    assert_eq!(updated.json["direct_lending"], true);
    emulator
        .decide_campaign(&campaign, Decision::Approve)
        .await
        .unwrap();
    assert_eq!(api.get(&path).await.json["campaign_status"], "VERIFIED");
    assert_eq!(
        emulator.decide_campaign(&campaign, Decision::Approve).await,
        Err(DecideError::CampaignNotInProgress {
            sid: campaign.clone(),
            status: String::from("VERIFIED")
        })
    );
    assert_eq!(
        api.get(&format!("/v1/Services/{service}")).await.json["us_app_to_person_registered"],
        true
    );
    // A VERIFIED campaign can be updated and stays VERIFIED.
    let updated = api.post(&path, &form(&update)).await;
    assert_eq!(
        updated.json["campaign_status"], "VERIFIED",
        "{}",
        updated.json
    );
    assert_eq!(
        emulator.counters().campaigns,
        1,
        "an update creates nothing"
    );
    assert_eq!(api.delete(&path).await.status, 204);
    assert_eq!(api.get(&path).await.status, 404);
    emulator.shutdown().await;
}

#[tokio::test]
async fn use_cases_are_listed_by_brand_type() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let standard = create_brand(&api, &a2p, &[]).await;
    let low = create_brand(
        &api,
        &a2p,
        &[
            ("BrandType", "LOW_VOLUME_STANDARD"),
            ("SkipAutomaticSecVet", "true"),
        ],
    )
    .await;
    let sole = create_brand(&api, &a2p, &[("BrandType", "SOLE_PROPRIETOR")]).await;
    let service = create_service(&api, "Use cases").await;
    let path = format!("{}/Usecases", usa2p(&service));
    let codes = |body: &Value| -> Vec<String> {
        body["us_app_to_person_usecases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = api
        .get(&format!("{path}?BrandRegistrationSid={standard}"))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert_eq!(
        codes(&listed.json),
        [
            "2FA",
            "ACCOUNT_NOTIFICATION",
            "CUSTOMER_CARE",
            "DELIVERY_NOTIFICATION",
            "FRAUD_ALERT",
            "HIGHER_EDUCATION",
            "MARKETING",
            "MIXED",
            "POLLING_VOTING",
            "PUBLIC_SERVICE_ANNOUNCEMENT",
            "SECURITY_ALERT"
        ]
    );
    let first = &listed.json["us_app_to_person_usecases"][0];
    assert_eq!(first["name"], "Two-Factor authentication (2FA)");
    assert_eq!(first["post_approval_required"], false);
    assert!(first["description"].is_string());
    let low_codes = codes(
        &api.get(&format!("{path}?BrandRegistrationSid={low}"))
            .await
            .json,
    );
    assert!(low_codes.contains(&String::from("LOW_VOLUME")));
    assert_eq!(low_codes.len(), 12);
    assert_eq!(
        codes(
            &api.get(&format!("{path}?BrandRegistrationSid={sole}"))
                .await
                .json
        ),
        ["SOLE_PROPRIETOR"]
    );
    assert_eq!(codes(&api.get(&path).await.json).len(), 11);
    let reply = api
        .get(&format!(
            "{path}?BrandRegistrationSid=BN00000000000000000000000000000000"
        ))
        .await;
    assert_names(&reply, "BrandRegistrationSid", "no brand registration");
    let reply = api.get(&format!("{path}?BrandRegistrationSid=XX1")).await;
    assert_names(&reply, "BrandRegistrationSid", "^BN");
    assert_eq!(
        api.get("/v1/Services/MG00000000000000000000000000000000/Compliance/Usa2p/Usecases")
            .await
            .status,
        404
    );

    let services = api.get("/v1/Services/Usecases").await.json;
    let names: Vec<&str> = services["usecases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["usecase"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "notifications",
            "marketing",
            "verification",
            "discussion",
            "poll",
            "undeclared"
        ]
    );
    assert!(services["usecases"][0]["purpose"].is_string());
    emulator.shutdown().await;
}

// =========================================================================================================
// Automatic decisions, fees, faults
// =========================================================================================================

#[tokio::test]
async fn mock_brands_and_campaigns_are_approved_automatically() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let mock = create_brand(&api, &a2p, &[("Mock", "true")]).await;
    let real = create_brand(&api, &a2p, &[]).await;
    let brand = wait_for(&api, &format!("{BRANDS}/{mock}"), "status", "APPROVED").await;
    assert_eq!(brand["mock"], true);
    assert!(brand["tcr_id"].is_string());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        api.get(&format!("{BRANDS}/{real}")).await.json["status"],
        "PENDING",
        "a real brand waits for its decision"
    );

    let service = create_service(&api, "Mock").await;
    let created = api
        .post(&usa2p(&service), &form(&campaign_form(&mock, "MARKETING")))
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(
        created.json["mock"], true,
        "a mock brand's campaign is a mock"
    );
    assert_eq!(created.json["campaign_status"], "IN_PROGRESS");
    let sid = created.json["sid"].as_str().unwrap();
    wait_for(
        &api,
        &format!("{}/{sid}", usa2p(&service)),
        "campaign_status",
        "VERIFIED",
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn configured_decisions_apply_to_every_brand_and_campaign() {
    let emulator = start(
        EmulatorConfig::default()
            .with_brand_decision(
                Duration::from_millis(150),
                Decision::Reject {
                    reason: String::from("Automatic rejection"),
                },
            )
            .with_campaign_decision(
                Duration::from_millis(30),
                Decision::Reject {
                    reason: String::from("Automatic campaign rejection"),
                },
            ),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    // The configured decision wins over the mock approval.
    let brand = create_brand(&api, &a2p, &[("Mock", "true")]).await;
    let path = format!("{BRANDS}/{brand}");
    let failed = wait_for(&api, &path, "status", "FAILED").await;
    assert_eq!(failed["failure_reason"], "Automatic rejection");
    // A resubmitted brand enters PENDING again and is decided again.
    let resubmitted = api.post(&path, &[]).await;
    assert_eq!(resubmitted.status, 202);
    assert_eq!(resubmitted.json["status"], "PENDING");
    wait_for(&api, &path, "status", "FAILED").await;

    // A brand decided by hand keeps its decision: the scheduled one is dropped.
    let other = create_brand(&api, &a2p, &[]).await;
    emulator
        .decide_brand(&other, Decision::Approve)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        api.get(&format!("{BRANDS}/{other}")).await.json["status"],
        "APPROVED"
    );

    let service = create_service(&api, "Configured").await;
    let campaign = api
        .create(&usa2p(&service), &form(&campaign_form(&other, "MARKETING")))
        .await;
    let failed = wait_for(
        &api,
        &format!("{}/{campaign}", usa2p(&service)),
        "campaign_status",
        "FAILED",
    )
    .await;
    assert_eq!(
        failed["errors"][0]["description"],
        "Automatic campaign rejection"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn fees_count_what_twilio_charges_for() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    let before = emulator.counters();
    assert_eq!(before.fees, 0, "bundles are not fees");
    let brand = approved_brand(&api, &emulator, &a2p, &[]).await;
    let duplicate = create_brand(&api, &a2p, &[]).await; // a second brand for the same trust product
    emulator
        .decide_brand(
            &duplicate,
            Decision::Reject {
                reason: String::from("Duplicate"),
            },
        )
        .await
        .unwrap();
    api.post(&format!("{BRANDS}/{duplicate}"), &[]).await; // a resubmission
    api.post(
        &format!("{BRANDS}/{brand}/Vettings"),
        &[("VettingProvider", "campaign-verify")],
    )
    .await; // a vetting
    let service = create_service(&api, "Fees").await;
    api.create(
        &format!("/v1/Services/{service}/PhoneNumbers"),
        &[("PhoneNumberSid", &emulator.phone_number_sids()[0])],
    )
    .await;
    api.create(&usa2p(&service), &form(&campaign_form(&brand, "MARKETING")))
        .await; // a campaign
    api.post(&usa2p(&service), &form(&campaign_form(&brand, "MARKETING")))
        .await; // refused: no fee

    let counters = emulator.counters();
    assert_eq!(counters.brand_registrations, 2);
    assert_eq!(counters.brand_resubmissions, 1);
    assert_eq!(counters.brand_vettings, 1);
    assert_eq!(counters.messaging_services, 1);
    assert_eq!(counters.messaging_service_phone_numbers, 1);
    assert_eq!(counters.campaigns, 1);
    assert_eq!(counters.fees, 5);
    let served: Value = serde_json::from_slice(
        &api.control_get("/__emulator/counters")
            .await
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(served["fees"], 5);
    assert_eq!(served["brand_resubmissions"], 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn faults_apply_to_the_messaging_routes() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;
    emulator.set_faults(Faults::none().with_rule(FaultRule::new(
        "POST",
        BRANDS,
        FaultKind::CommitThenDrop,
        1,
    )));
    let outcome = api
        .http
        .post(format!("{}{BRANDS}", emulator.base_url()))
        .basic_auth(emulator.account_sid(), Some(emulator.auth_token()))
        .form(&form(&brand_form(&a2p)))
        .send()
        .await;
    let error = outcome.expect_err("the connection closes without a response");
    assert!(!error.is_status(), "{error}");
    let counters = emulator.counters();
    assert_eq!(counters.brand_registrations, 1, "the brand was committed");
    assert_eq!(counters.fees, 1);
    assert_eq!(counters.connections_dropped, 1);
    let listed = api.get(BRANDS).await.json;
    let brands = listed["data"].as_array().unwrap();
    assert_eq!(brands.len(), 1, "{listed}");
    assert_eq!(brands[0]["a2p_profile_bundle_sid"], a2p.product.as_str());
    assert_eq!(brands[0]["status"], "PENDING");

    // The rule is used up; random faults reach the Messaging routes too.
    emulator.set_faults(Faults::none().with_rate_503(1.0));
    let unavailable = api.get("/v1/Services").await;
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.code(), 20503);
    emulator.set_faults(Faults::none());
    assert_eq!(api.get("/v1/Services").await.status, 200);
    emulator.shutdown().await;
}

// =========================================================================================================
// The A2P trust product's evaluation
// =========================================================================================================

/// Evaluates a trust product against the A2P policy.
async fn evaluate_a2p(api: &Api, product: &str) -> Value {
    let reply = api
        .post(
            &format!("/v1/TrustProducts/{product}/Evaluations"),
            &[("PolicySid", policies::A2P_TRUST_PRODUCT)],
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    reply.json
}

#[tokio::test]
async fn the_a2p_trust_product_is_evaluated() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let profile = submitted_profile(&api, &emulator, "1 Main St").await;

    // The policy requires company_type and a supporting customer profile.
    let policy = api
        .get(&format!("/v1/Policies/{}", policies::A2P_TRUST_PRODUCT))
        .await
        .json;
    assert_eq!(
        policy["requirements"]["end_user"][0]["fields"],
        json!(["company_type"])
    );
    assert_eq!(
        policy["requirements"]["supporting_customer_profiles"][0]["requirement_name"],
        "customer_profile"
    );
    let end_user_type = api
        .get("/v1/EndUserTypes/us_a2p_messaging_profile_information")
        .await
        .json;
    let fields: Vec<&str> = end_user_type["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["machine_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "company_type",
            "stock_exchange",
            "stock_ticker",
            "brand_contact_email"
        ]
    );

    // An unlisted company type.
    let product = a2p_product(&api, json!({"company_type": "startup"}), Some(&profile)).await;
    let evaluation = evaluate_a2p(&api, &product).await;
    assert_eq!(evaluation["status"], "noncompliant");
    let result = requirement(&evaluation, "us_a2p_messaging_profile_information");
    let field = invalid_field(result, "company_type");
    assert_eq!(field["error_code"], 22217);
    assert!(field["failure_reason"]
        .as_str()
        .unwrap()
        .contains("public, private, non-profit, government"));

    // A public company needs its stock exchange, ticker and contact email.
    let product = a2p_product(&api, json!({"company_type": "public"}), Some(&profile)).await;
    let evaluation = evaluate_a2p(&api, &product).await;
    let result = requirement(&evaluation, "us_a2p_messaging_profile_information");
    assert_eq!(result["error_code"], 22215);
    for name in ["stock_exchange", "stock_ticker", "brand_contact_email"] {
        assert_eq!(invalid_field(result, name)["error_code"], 22215, "{name}");
    }
    let product = a2p_product(
        &api,
        json!({
            "company_type": "public",
            "stock_exchange": "MOON",
            "stock_ticker": "ACME",
            "brand_contact_email": "not-an-email",
        }),
        Some(&profile),
    )
    .await;
    let evaluation = evaluate_a2p(&api, &product).await;
    let result = requirement(&evaluation, "us_a2p_messaging_profile_information");
    assert_eq!(invalid_field(result, "stock_exchange")["error_code"], 22217);
    assert_eq!(
        invalid_field(result, "brand_contact_email")["error_code"],
        22217
    );
    let product = a2p_product(
        &api,
        json!({
            "company_type": "public",
            "stock_exchange": "NASDAQ",
            "stock_ticker": "ACME",
            "brand_contact_email": "ir@acme.example.com",
        }),
        Some(&profile),
    )
    .await;
    let evaluation = evaluate_a2p(&api, &product).await;
    assert_eq!(evaluation["status"], "compliant", "{evaluation}");

    // The supporting profile: the secondary one, not a draft; the primary does not count.
    let product = a2p_product(&api, json!({"company_type": "private"}), None).await;
    let evaluation = evaluate_a2p(&api, &product).await;
    let result = requirement(&evaluation, "customer_profile");
    assert_eq!(result["error_code"], 22220);
    assert!(result["failure_reason"]
        .as_str()
        .unwrap()
        .contains("secondary customer profile"));
    let product = a2p_product(
        &api,
        json!({"company_type": "private"}),
        Some(emulator.primary_profile_sid()),
    )
    .await;
    let evaluation = evaluate_a2p(&api, &product).await;
    assert_eq!(
        requirement(&evaluation, "customer_profile")["error_code"],
        22220
    );
    let draft = api
        .create_profile(
            "Draft",
            "d@example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            None,
        )
        .await;
    let product = a2p_product(&api, json!({"company_type": "non-profit"}), Some(&draft)).await;
    let evaluation = evaluate_a2p(&api, &product).await;
    let result = requirement(&evaluation, "customer_profile");
    assert_eq!(result["error_code"], 22221);
    assert!(result["failure_reason"]
        .as_str()
        .unwrap()
        .contains("is draft"));
    // Submitting a noncompliant trust product rejects it, naming the problem.
    let path = format!("/v1/TrustProducts/{product}");
    api.post(&path, &[("Status", "pending-review")]).await;
    let rejected = api.get(&path).await.json;
    assert_eq!(rejected["status"], "twilio-rejected");
    assert_eq!(rejected["errors"][0]["code"], 22221);
    emulator.shutdown().await;
}
