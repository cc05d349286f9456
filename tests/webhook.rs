//! The webhook handler (`trusthub::webhook`): rejections by status, deduplication, replays,
//! reordering, typed events, several tokens, and no secret in errors or `Debug`.

use std::time::{Duration, SystemTime};

use trusthub::api::trusthub_v1::{CustomerProfileStatus, TrustProductStatus};
use trusthub::sid::{BrandRegistrationSid, CustomerProfileSid, ObjectSid, UsAppToPersonSid};
use trusthub::signature::{body_sha256, compute_signature, decode_form, SignatureError};
use trusthub::webhook::*;

const TOKEN: &str = "webhook-test-auth-token";
const URL: &str = "https://isv.example.com/twilio/status?tenant=7";
const SINK: &str = "https://isv.example.com/twilio/events";
const AC: &str = "AC0123456789abcdef0123456789abcdef";
const BU: &str = "BU0123456789abcdef0123456789abcdef";
const BU2: &str = "BUfedcba9876543210fedcba9876543210";
const BN: &str = "BN0123456789abcdef0123456789abcdef";
const QE: &str = "QE0123456789abcdef0123456789abcdef";
const MG: &str = "MG0123456789abcdef0123456789abcdef";
const FORM: &str = "application/x-www-form-urlencoded";

/// A signed bundle callback: (body, signature).
fn bundle_callback(
    token: &str,
    bundle: &str,
    status: &str,
    reason: Option<&str>,
) -> (String, String) {
    let mut body = format!("AccountSid={AC}&BundleSid={bundle}&Status={status}");
    if let Some(reason) = reason {
        body.push_str("&FailureReason=");
        body.push_str(&reason.replace(' ', "+"));
    }
    let params = decode_form(body.as_bytes()).unwrap();
    let signature = compute_signature(token, URL, &params);
    (body, signature)
}

fn form_headers<'a>(signature: &'a str, token: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut headers = vec![("content-type", FORM), ("x-twilio-signature", signature)];
    if let Some(token) = token {
        headers.push(("I-Twilio-Idempotency-Token", token));
    }
    headers
}

/// A CloudEvent of a brand.
fn brand_event(id: &str, status: &str, updated_ms: i64) -> serde_json::Value {
    let kind = if status == "registered" {
        "brand-registered"
    } else {
        "brand-failure"
    };
    let mut data = serde_json::json!({
        "accountsid": AC,
        "brandsid": BN,
        "brandstatus": status,
        "externalbrandid": "B000001",
        "createddate": 1_756_043_494_500_i64,
        "updateddate": updated_ms,
    });
    if status == "registration_failed" {
        data["brandregistrationerrors"] = serde_json::json!([{
            "registrationerrorcode": 21736,
            "registrationerrordescription": "The Brand contact email is invalid.\u{1b}[2J",
            "registrationerrorurl": "https://www.twilio.com/docs/api/errors/21736",
            "registrationerrorfields": ["brand_contact_email"],
        }]);
    }
    serde_json::json!({
        "specversion": "1.0",
        "type": format!("com.twilio.messaging.compliance.brand-registration.{kind}"),
        "source": "/v1/a2p/BrandRegistrations",
        "id": id,
        "datacontenttype": "application/json",
        "data": data,
    })
}

fn campaign_event(id: &str, status: &str, updated_ms: i64) -> serde_json::Value {
    let kind = if status == "VERIFIED" {
        "campaign-approved"
    } else {
        "campaign-failure"
    };
    serde_json::json!({
        "specversion": "1.0",
        "type": format!("com.twilio.messaging.compliance.campaign-registration.{kind}"),
        "source": "/v1/Services/Compliance/Usa2p",
        "id": id,
        "data": {
            "accountsid": AC,
            "campaignsid": QE,
            "brandsid": BN,
            "messagingservicesid": MG,
            "campaignstatus": status,
            "updateddate": updated_ms,
            "campaignregistrationerrors": if status == "FAILED" {
                serde_json::json!([{"registrationerrorcode": "30896", "registrationerrordescription": "Opt-in unclear", "registrationerrorfields": []}])
            } else {
                serde_json::json!([])
            },
        },
    })
}

/// A signed Event Streams delivery: (url with bodySHA256, body, signature).
fn events_delivery(token: &str, events: &[serde_json::Value]) -> (String, String, String) {
    let body = serde_json::to_string(events).unwrap();
    let url = format!("{SINK}?bodySHA256={}", body_sha256(body.as_bytes()));
    let signature = compute_signature(token, &url, &[] as &[(&str, &str)]);
    (url, body, signature)
}

fn json_headers(signature: &str) -> Vec<(&str, &str)> {
    vec![
        ("Content-Type", "application/json; charset=utf-8"),
        ("X-Twilio-Signature", signature),
    ]
}

#[test]
fn rejections_carry_their_status() {
    let webhook = Webhook::new(TOKEN).max_body_bytes(4096);
    let (body, signature) = bundle_callback(TOKEN, BU, "in-review", None);
    let headers = form_headers(&signature, Some("t-1"));
    let status = |method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]| {
        webhook
            .handle(method, url, headers, body)
            .unwrap_err()
            .status()
    };
    // Not POST: 405, with Allow.
    let get = webhook
        .handle("GET", URL, &headers, body.as_bytes())
        .unwrap_err();
    assert_eq!((get.status(), get.allow()), (405, Some("POST")));
    assert_eq!(get.reason(), &RejectReason::Method);
    // Too large: 413.
    assert_eq!(status("POST", URL, &headers, &[b'a'; 5000]), 413);
    // Neither form nor JSON, or no content type: 415.
    let text = [
        ("Content-Type", "text/plain"),
        ("X-Twilio-Signature", signature.as_str()),
    ];
    assert_eq!(status("POST", URL, &text, body.as_bytes()), 415);
    assert_eq!(status("POST", URL, &text[1..], body.as_bytes()), 415);
    // No signature, a wrong one, a tampered body, another URL: 403.
    let unsigned = [("Content-Type", FORM)];
    let missing = webhook
        .handle("POST", URL, &unsigned, body.as_bytes())
        .unwrap_err();
    assert_eq!(missing.status(), 403);
    assert_eq!(
        missing.reason(),
        &RejectReason::Signature(SignatureError::Missing)
    );
    let (_, other_signature) = bundle_callback("another token", BU, "in-review", None);
    assert_eq!(
        status(
            "POST",
            URL,
            &form_headers(&other_signature, None),
            body.as_bytes()
        ),
        403
    );
    let tampered = body.replace("in-review", "twilio-approved");
    assert_eq!(status("POST", URL, &headers, tampered.as_bytes()), 403);
    assert_eq!(
        status(
            "POST",
            "https://isv.example.com/twilio/status",
            &headers,
            body.as_bytes()
        ),
        403
    );
    // A form that cannot be decoded: 400 (its signature cannot be checked).
    assert_eq!(status("POST", URL, &headers, b"Status=%zz"), 400);
    // Signed, but not a status callback: 400 naming the field.
    let params = [("AccountSid", AC), ("Status", "draft")];
    let signed = compute_signature(TOKEN, URL, &params);
    let no_bundle = webhook
        .handle(
            "POST",
            URL,
            &form_headers(&signed, None),
            format!("AccountSid={AC}&Status=draft").as_bytes(),
        )
        .unwrap_err();
    assert_eq!(no_bundle.status(), 400);
    match no_bundle.reason() {
        RejectReason::Event(problem) => assert_eq!(problem.field(), "BundleSid"),
        other => panic!("{other:?}"),
    }
    // Signed JSON that is not CloudEvents, or an event without its SID: 400.
    let (url, _, _) = events_delivery(TOKEN, &[]);
    let not_json = b"{not json";
    let url_for = |body: &[u8]| format!("{SINK}?bodySHA256={}", body_sha256(body));
    let sign = |url: &str| compute_signature(TOKEN, url, &[] as &[(&str, &str)]);
    let bad_url = url_for(not_json);
    assert_eq!(
        status("POST", &bad_url, &json_headers(&sign(&bad_url)), not_json),
        400
    );
    let mut no_sid = brand_event("NO1", "registered", 1);
    no_sid["data"].as_object_mut().unwrap().remove("brandsid");
    let (url2, body2, sig2) = events_delivery(TOKEN, &[no_sid]);
    let refused = webhook
        .handle("POST", &url2, &json_headers(&sig2), body2.as_bytes())
        .unwrap_err();
    assert_eq!(refused.status(), 400);
    assert!(refused.to_string().contains("data.brandsid"), "{refused}");
    let mut wrong_kind = brand_event("NO2", "registered", 1);
    wrong_kind["data"]["brandsid"] = serde_json::json!(QE);
    let (url3, body3, sig3) = events_delivery(TOKEN, &[wrong_kind]);
    assert_eq!(
        status("POST", &url3, &json_headers(&sig3), body3.as_bytes()),
        400
    );
    let _ = url;
}

#[test]
fn json_bodies_must_match_the_signed_hash() {
    let webhook = Webhook::new(TOKEN);
    let (url, body, signature) = events_delivery(TOKEN, &[brand_event("NO1", "registered", 1)]);
    let tampered = body.replace("registered", "registration_failed");
    let refused = webhook
        .handle("POST", &url, &json_headers(&signature), tampered.as_bytes())
        .unwrap_err();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.reason(),
        &RejectReason::Signature(SignatureError::BodyHashMismatch)
    );
    // Signed without bodySHA256: the body is not covered.
    let bare = compute_signature(TOKEN, SINK, &[] as &[(&str, &str)]);
    let refused = webhook
        .handle("POST", SINK, &json_headers(&bare), body.as_bytes())
        .unwrap_err();
    assert_eq!(
        refused.reason(),
        &RejectReason::Signature(SignatureError::BodyHashMissing)
    );
    // A space after the signature is not the signature.
    let padded = format!("{signature} ");
    assert_eq!(
        webhook
            .handle("POST", &url, &json_headers(&padded), body.as_bytes())
            .unwrap_err()
            .status(),
        403
    );
    let delivery = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    assert_eq!(delivery.events().len(), 1);
}

#[test]
fn each_event_is_handed_over_once_and_replays_are_acknowledged() {
    let webhook = Webhook::new(TOKEN);
    let (body, signature) = bundle_callback(TOKEN, BU, "in-review", None);
    let headers = form_headers(&signature, Some("0123456789abcdef0123456789abcdef"));
    let first = webhook
        .handle("POST", URL, &headers, body.as_bytes())
        .unwrap();
    assert_eq!((first.events().len(), first.duplicates()), (1, 0));
    first.complete();
    // Twilio's retry, or a replay of the captured request: 200, nothing handed over.
    for _ in 0..3 {
        let again = webhook
            .handle("POST", URL, &headers, body.as_bytes())
            .unwrap();
        assert!(again.events().is_empty());
        assert_eq!(again.duplicates(), 1);
        again.complete();
    }
    // A replay whose body was changed is refused, not acknowledged.
    let changed = body.replace("in-review", "twilio-approved");
    assert_eq!(
        webhook
            .handle("POST", URL, &headers, changed.as_bytes())
            .unwrap_err()
            .status(),
        403
    );
    // The parameters in another order: the same event.
    let reordered: Vec<&str> = body.split('&').rev().collect();
    let again = webhook
        .handle("POST", URL, &headers, reordered.join("&").as_bytes())
        .unwrap();
    assert_eq!(again.duplicates(), 1);

    // CloudEvents: the same id in another batch is the same event; a new one in it is new.
    let (url, body, signature) = events_delivery(TOKEN, &[brand_event("NOaaa", "registered", 10)]);
    webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap()
        .complete();
    let (url, body, signature) = events_delivery(
        TOKEN,
        &[
            brand_event("NOaaa", "registered", 10),
            campaign_event("NObbb", "VERIFIED", 20),
        ],
    );
    let mixed = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    assert_eq!((mixed.events().len(), mixed.duplicates()), (1, 1));
    assert!(matches!(mixed.events()[0].change, Change::Campaign { .. }));
    mixed.complete();
}

#[test]
fn a_delivery_not_completed_is_handed_over_again() {
    let webhook = Webhook::new(TOKEN).bundle_kind(|_| BundleKind::CustomerProfile);
    let (body, signature) = bundle_callback(TOKEN, BU, "in-review", None);
    let (body2, signature2) = bundle_callback(TOKEN, BU, "twilio-approved", None);
    let headers = form_headers(&signature, Some("event-1"));
    let headers2 = form_headers(&signature2, Some("event-2"));
    webhook
        .handle("POST", URL, &headers, body.as_bytes())
        .unwrap()
        .complete();
    // The user could not take it (the Delivery is dropped): answer 5xx, Twilio retries.
    let lost = webhook
        .handle("POST", URL, &headers2, body2.as_bytes())
        .unwrap();
    assert_eq!(lost.events()[0].change.previous_status(), Some("in-review"));
    drop(lost);
    let retry = webhook
        .handle("POST", URL, &headers2, body2.as_bytes())
        .unwrap();
    assert_eq!(retry.events().len(), 1);
    // The same transition as the first time: the retry does not see its own status as before.
    assert_eq!(
        retry.events()[0].change.previous_status(),
        Some("in-review")
    );
    // While it is being handed over, another copy waits: 409.
    let concurrent = webhook
        .handle("POST", URL, &headers2, body2.as_bytes())
        .unwrap_err();
    assert_eq!(concurrent.status(), 409);
    assert_eq!(concurrent.reason(), &RejectReason::InProgress);
    retry.complete();
    let after = webhook
        .handle("POST", URL, &headers2, body2.as_bytes())
        .unwrap();
    assert_eq!(after.duplicates(), 1);
}

#[test]
fn events_out_of_order_are_handed_over_once_marked_stale() {
    let webhook = Webhook::new(TOKEN);
    // The failure (t=2000) arrives before the registration it follows (t=1000).
    let newer = brand_event("NO2", "registration_failed", 2_000);
    let older = brand_event("NO1", "registered", 1_000);
    let (url, body, signature) = events_delivery(TOKEN, &[newer]);
    let first = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    let event = first.events()[0].clone();
    first.complete();
    assert!(!event.stale);
    assert_eq!(event.change.previous_status(), None);
    let (url, body, signature) = events_delivery(TOKEN, &[older]);
    let late = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    let event = late.events()[0].clone();
    late.complete();
    assert!(event.stale, "the older event is marked stale");
    assert_eq!(event.change.status(), "registered");
    // Its previous status is the newer one, which stays recorded.
    assert_eq!(event.change.previous_status(), Some("registration_failed"));
    let (url, body, signature) = events_delivery(TOKEN, &[brand_event("NO3", "registered", 3_000)]);
    let next = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    assert!(!next.events()[0].stale);
    assert_eq!(
        next.events()[0].change.previous_status(),
        Some("registration_failed")
    );

    // Bundle callbacks carry no time: ordered by arrival, never stale.
    let (a, sa) = bundle_callback(TOKEN, BU2, "twilio-approved", None);
    let (b, sb) = bundle_callback(TOKEN, BU2, "in-review", None);
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    webhook
        .handle_at("POST", URL, &form_headers(&sa, Some("a")), a.as_bytes(), t0)
        .unwrap()
        .complete();
    let second = webhook
        .handle_at(
            "POST",
            URL,
            &form_headers(&sb, Some("b")),
            b.as_bytes(),
            t0 + Duration::from_secs(1),
        )
        .unwrap();
    assert!(!second.events()[0].stale);
    assert_eq!(
        second.events()[0].change.previous_status(),
        Some("twilio-approved")
    );
}

#[test]
fn events_are_typed() {
    let webhook = Webhook::new(TOKEN).bundle_kind(|sid: &ObjectSid| {
        if sid.as_str() == BU {
            BundleKind::CustomerProfile
        } else if sid.as_str() == BU2 {
            BundleKind::TrustProduct
        } else {
            BundleKind::Unknown
        }
    });
    // A customer profile, rejected with a reason.
    let (body, signature) =
        bundle_callback(TOKEN, BU, "twilio-rejected", Some("Address does not match"));
    let delivery = webhook
        .handle(
            "POST",
            URL,
            &form_headers(&signature, Some("tok-1")),
            body.as_bytes(),
        )
        .unwrap();
    let event = &delivery.events()[0];
    assert_eq!(
        event.change,
        Change::CustomerProfile {
            sid: BU.parse::<CustomerProfileSid>().unwrap(),
            status: CustomerProfileStatus::TwilioRejected,
            previous: None,
        }
    );
    assert_eq!(
        event.failures[0].description.as_deref(),
        Some("Address does not match")
    );
    assert_eq!(event.account_sid.unwrap().as_str(), AC);
    assert_eq!(event.id.as_deref(), Some("tok-1"));
    assert_eq!((event.event_type.as_deref(), event.time), (None, None));
    assert_eq!(event.change.kind(), Kind::CustomerProfile);
    delivery.complete();
    // A trust product.
    let (body, signature) = bundle_callback(TOKEN, BU2, "twilio-approved", None);
    let delivery = webhook
        .handle(
            "POST",
            URL,
            &form_headers(&signature, Some("tok-2")),
            body.as_bytes(),
        )
        .unwrap();
    assert!(matches!(
        delivery.events()[0].change,
        Change::TrustProduct {
            status: TrustProductStatus::TwilioApproved,
            ..
        }
    ));
    // A bundle the classifier does not know.
    let other = "BU00000000000000000000000000000000";
    let (body, signature) = bundle_callback(TOKEN, other, "in-review", None);
    let delivery = webhook
        .handle(
            "POST",
            URL,
            &form_headers(&signature, None),
            body.as_bytes(),
        )
        .unwrap();
    assert!(matches!(
        delivery.events()[0].change,
        Change::Bundle {
            status: CustomerProfileStatus::InReview,
            ..
        }
    ));
    assert_eq!(delivery.events()[0].change.sid().as_str(), other);

    // A brand failure with its registration errors, made printable.
    let (url, body, signature) = events_delivery(
        TOKEN,
        &[
            brand_event("NO0123", "registration_failed", 1_756_043_494_500),
            campaign_event("NO0456", "FAILED", 1_756_043_494_600),
        ],
    );
    let delivery = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    let [brand, campaign] = delivery.events() else {
        panic!("two events")
    };
    assert_eq!(
        brand.change,
        Change::Brand {
            sid: BN.parse::<BrandRegistrationSid>().unwrap(),
            status: BrandStatus::RegistrationFailed,
            previous: None,
            external_brand_id: Some("B000001".into()),
        }
    );
    let failure = &brand.failures[0];
    assert_eq!(failure.code, Some(21736));
    assert_eq!(
        failure.description.as_deref(),
        Some("The Brand contact email is invalid.\\u{1b}[2J")
    );
    assert_eq!(failure.fields, ["brand_contact_email"]);
    assert_eq!(
        failure.url.as_deref(),
        Some("https://www.twilio.com/docs/api/errors/21736")
    );
    assert_eq!(brand.id.as_deref(), Some("NO0123"));
    assert_eq!(
        brand.event_type.as_deref(),
        Some("com.twilio.messaging.compliance.brand-registration.brand-failure")
    );
    assert_eq!(brand.time.unwrap().unix_timestamp(), 1_756_043_494);
    match &campaign.change {
        Change::Campaign {
            sid,
            status,
            brand_sid,
            messaging_service_sid,
            ..
        } => {
            assert_eq!(*sid, QE.parse::<UsAppToPersonSid>().unwrap());
            assert_eq!(*status, CampaignStatus::Failed);
            assert_eq!(brand_sid.unwrap().as_str(), BN);
            assert_eq!(messaging_service_sid.unwrap().as_str(), MG);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(campaign.failures[0].code, Some(30896));
    assert_eq!(
        campaign.to_string(),
        format!("{QE} is now failed; 30896: Opt-in unclear")
    );
    delivery.complete();

    // Other CloudEvent types are acknowledged and counted, not handed over.
    let mut other = brand_event("NO999", "registered", 1);
    other["type"] = serde_json::json!("com.twilio.messaging.message.delivered");
    let (url, body, signature) = events_delivery(TOKEN, &[other]);
    let delivery = webhook
        .handle("POST", &url, &json_headers(&signature), body.as_bytes())
        .unwrap();
    assert_eq!((delivery.events().len(), delivery.ignored()), (0, 1));
}

#[test]
fn callbacks_without_an_idempotency_token_are_not_deduplicated() {
    let webhook = Webhook::new(TOKEN);
    let (body, signature) = bundle_callback(TOKEN, BU, "in-review", None);
    for _ in 0..2 {
        let delivery = webhook
            .handle(
                "POST",
                URL,
                &form_headers(&signature, None),
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(delivery.events().len(), 1);
        assert_eq!(delivery.events()[0].id, None);
        delivery.complete();
    }
}

#[test]
fn every_configured_token_is_accepted() {
    let webhook = Webhook::new(TOKEN).also_accept("subaccount-token");
    for token in [TOKEN, "subaccount-token"] {
        let (body, signature) = bundle_callback(token, BU, "draft", None);
        assert!(webhook
            .handle(
                "POST",
                URL,
                &form_headers(&signature, None),
                body.as_bytes()
            )
            .is_ok());
    }
    let (body, signature) = bundle_callback("unknown-token", BU, "draft", None);
    assert_eq!(
        webhook
            .handle(
                "POST",
                URL,
                &form_headers(&signature, None),
                body.as_bytes()
            )
            .unwrap_err()
            .status(),
        403
    );
}

#[test]
fn no_secret_in_rejections_or_debug() {
    let webhook = Webhook::new(TOKEN).also_accept("second-secret-token");
    let debug = format!("{webhook:?}");
    assert!(
        !debug.contains(TOKEN) && !debug.contains("second-secret-token"),
        "{debug}"
    );
    let (body, signature) = bundle_callback(TOKEN, BU, "twilio-rejected", Some("private reason"));
    let tampered = body.replace("private+reason", "other+reason");
    let mut texts = Vec::new();
    for (headers, body) in [
        (form_headers(&signature, Some("t")), tampered.as_bytes()),
        (form_headers("not base64", None), body.as_bytes()),
        (
            form_headers(&format!("{signature} "), None),
            body.as_bytes(),
        ),
        (
            form_headers(&signature, None),
            b"BundleSid=RN0123456789abcdef0123456789abcdef&Status=x".as_slice(),
        ),
    ] {
        let rejection = webhook.handle("POST", URL, &headers, body).unwrap_err();
        texts.push(format!("{rejection} {rejection:?}"));
    }
    let (url, body, sig) = events_delivery(TOKEN, &[brand_event("NO1", "registered", 1)]);
    let rejection = webhook
        .handle(
            "POST",
            &url,
            &json_headers(&sig),
            body.replace("B000001", "B000002").as_bytes(),
        )
        .unwrap_err();
    texts.push(format!("{rejection} {rejection:?}"));
    for text in &texts {
        for secret in [
            TOKEN,
            "second-secret-token",
            signature.as_str(),
            sig.as_str(),
            "private",
            "B00000",
        ] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
    // An accepted delivery's Debug shows the event, not the token or signature.
    let delivery = webhook.handle(
        "POST",
        URL,
        &form_headers(&signature, Some("t")),
        body_for_debug().as_bytes(),
    );
    let text = format!("{delivery:?}");
    assert!(!text.contains(TOKEN) && !text.contains(&signature));
    let store = MemoryStore::new();
    assert!(format!("{store:?}").contains("deliveries"));
}

fn body_for_debug() -> String {
    bundle_callback(TOKEN, BU, "twilio-rejected", Some("private reason")).0
}

#[test]
fn the_memory_store_expires_and_bounds_what_it_remembers() {
    let store = MemoryStore::new()
        .ttl(Duration::from_secs(60))
        .lease(Duration::from_secs(5))
        .capacity(3);
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    let key = |n: u32| __key_for_doctests(&n.to_string());
    // A claim held past its lease can be taken over (a handler that died).
    assert_eq!(store.claim(&key(0), t0), Claim::New);
    assert_eq!(
        store.claim(&key(0), t0 + Duration::from_secs(4)),
        Claim::InProgress
    );
    assert_eq!(
        store.claim(&key(0), t0 + Duration::from_secs(6)),
        Claim::New
    );
    store.complete(&key(0), t0 + Duration::from_secs(6));
    assert_eq!(
        store.claim(&key(0), t0 + Duration::from_secs(65)),
        Claim::Done
    );
    assert_eq!(
        store.claim(&key(0), t0 + Duration::from_secs(67)),
        Claim::New
    );
    // Capacity: the oldest deliveries go first.
    for n in 1..=5 {
        store.claim(&key(n), t0);
        store.complete(&key(n), t0);
    }
    assert!(store.deliveries() <= 3, "{}", store.deliveries());
    assert_eq!(store.claim(&key(5), t0), Claim::Done);
    assert_eq!(store.claim(&key(1), t0), Claim::New);
    // Statuses are bounded too.
    for n in 0..10u32 {
        let sid = format!("BN{n:032x}");
        let update = StatusUpdate {
            sid: &sid,
            status: "registered",
            at: time::OffsetDateTime::UNIX_EPOCH,
            delivery: None,
        };
        assert_eq!(store.advance(&update), Advance::default());
    }
    assert_eq!(
        store.status_of(&format!("BN{:032x}", 9)).as_deref(),
        Some("registered")
    );
    assert_eq!(store.status_of(&format!("BN{:032x}", 0)), None);
}
