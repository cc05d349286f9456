//! One test per row of the bad-input table in TESTING.md: each class of bad input and exactly
//! what the user gets (the error type and variant, and the message). When a message changes,
//! change the table with it.

use std::time::Duration;

use trusthub::api::runtime::{ErrorKind, TransportErrorKind};
use trusthub::attributes::{ProblemKind, Region, Validate};
use trusthub::flow::{DigestKey, JournalStore, MemoryStore, SecondaryProfile};
use trusthub::sid::{CustomerProfileSid, SidProblem};
use trusthub::{Client, ClientBuilder, FlowError, RetryPolicy};
use trusthub_emulator::{start, EmulatorConfig, Faults};

const POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
const BU: &str = "BU0123456789abcdef0123456789abcdef";

use crate::fixtures;

use fixtures::{address, client, input, representative};

#[test]
fn malformed_sid() {
    let error = "BU123".parse::<CustomerProfileSid>().unwrap_err();
    assert_eq!(error.problem(), &SidProblem::Length { found: 5 });
    assert_eq!(
        error.to_string(),
        "invalid CustomerProfileSid: found 5 characters, expected 34; expected 34 characters \
         matching ^BU[0-9a-fA-F]{32}$"
    );
    let error = "BU0123456789abcdef0123456789abcdeg"
        .parse::<CustomerProfileSid>()
        .unwrap_err();
    assert_eq!(
        error.problem(),
        &SidProblem::NotHex {
            position: 33,
            found: 'g'
        }
    );
}

#[tokio::test]
async fn malformed_sid_given_to_an_operation_is_refused_before_sending() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let error = client(&emulator)
        .customer_profiles()
        .fetch("BU123")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidParameter, "{error:?}");
    assert_eq!(error.operation(), Some("FetchCustomerProfile"));
    assert_eq!(error.parameter(), Some("Sid"));
    assert_eq!(
        error.to_string(),
        "FetchCustomerProfile: invalid Sid: expected ^BU[0-9a-fA-F]{32}$, found length 5; fix \
         the value (nothing was sent)"
    );
    assert_eq!(emulator.counters().requests_served, 0);
}

#[tokio::test]
async fn wrong_sid_kind() {
    // A policy SID where a customer profile SID is expected: the typed facade refuses it ...
    let error = POLICY.parse::<CustomerProfileSid>().unwrap_err();
    assert_eq!(error.problem(), &SidProblem::Prefix { found: "RN".into() });
    assert_eq!(
        error.to_string(),
        "invalid CustomerProfileSid: found prefix \"RN\"; expected 34 characters matching \
         ^BU[0-9a-fA-F]{32}$"
    );
    // ... and so does every generated operation, before sending.
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let error = client(&emulator)
        .customer_profiles()
        .fetch(POLICY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "FetchCustomerProfile: invalid Sid: expected ^BU[0-9a-fA-F]{32}$, found prefix \"RN\"; \
         fix the value (nothing was sent)"
    );
    assert_eq!(emulator.counters().requests_served, 0);
}

#[test]
fn invalid_attribute_value() {
    let mut rep = representative(1);
    rep.phone_number = "415-555-0101".into();
    let errors = rep.validate().unwrap_err();
    assert_eq!(errors.errors()[0].kind(), ProblemKind::PhoneNumber);
    assert_eq!(
        errors.to_string(),
        "1 problem found by local validation:\n  - representative_1.phone_number: expected an \
         E.164 phone number: '+' then 8 to 15 digits, the first not 0, such as +12015550123; \
         found 12 characters, does not start with '+'"
    );
    // The value is not repeated (the expected form's example is a fictional 555 number).
    let text = errors.to_string();
    assert!(
        !text.contains("415-555") && !text.contains("0101"),
        "{text}"
    );
}

#[tokio::test]
async fn north_american_number_outside_the_numbering_plan() {
    // E.164-shaped, but the area code starts with 1: Twilio's evaluation refuses it with 22218
    // ("Phone number is invalid."), so local validation refuses it first, naming the rule.
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let mut rep = representative(1);
    rep.phone_number = "+11234567890".into();
    let errors = input(&emulator, "Acme NANP")
        .representative_1(rep)
        .build()
        .unwrap_err();
    assert_eq!(errors.errors()[0].kind(), ProblemKind::PhoneNumber);
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        ["representative_1.phone_number"]
    );
    let text = errors.to_string();
    assert_eq!(
        text,
        "1 problem found by local validation:\n  - representative_1.phone_number: expected a \
         North American number (+1 then a 10-digit number whose area code and exchange start \
         with 2-9, the area code neither an N11 service code such as 911 nor with 9 as its \
         second digit), such as +12015550123; found 12 characters, the area code 123 starts \
         with 1"
    );
    assert!(!text.contains("4567890"), "{text}");
    // The exchange is never repeated either.
    let mut rep = representative(2);
    rep.phone_number = "+14151234567".into();
    let errors = input(&emulator, "Acme NANP")
        .representative_2(rep)
        .build()
        .unwrap_err();
    let text = errors.to_string();
    assert!(
        text.ends_with(
            "found 12 characters, the exchange (the 3 digits after the area code) starts with 1"
        ),
        "{text}"
    );
    assert!(
        !text.contains("4151234567") && !text.contains("1234567"),
        "{text}"
    );
    assert_eq!(emulator.counters().requests_served, 0, "nothing was sent");

    // A valid North American number and a number of another country pass.
    for phone in ["+14155550102", "+12025550123", "+447700900123"] {
        let mut rep = representative(1);
        rep.phone_number = phone.into();
        let built = input(&emulator, "Acme NANP").representative_1(rep).build();
        assert!(built.is_ok(), "{phone}: {:?}", built.err());
    }
    assert_eq!(
        emulator.counters().requests_served,
        0,
        "building sends nothing"
    );
}

#[test]
fn unlisted_enum_value_typed_by_the_user() {
    let error = "CANADA".parse::<Region>().unwrap_err();
    assert_eq!(error.found(), "CANADA");
    let text = error.to_string();
    assert!(
        text.starts_with("\"CANADA\" is not a listed Region value; expected one of: "),
        "{text}"
    );
    assert!(
        text.ends_with(
            "; to send a value Twilio accepts but does not document, use Region::unlisted(..)"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn po_box() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let mut po_box = address();
    po_box.street = "P.O. Box 4410".into();
    let errors = input(&emulator, "Acme")
        .address(po_box)
        .build()
        .unwrap_err();
    assert_eq!(errors.errors()[0].kind(), ProblemKind::PoBox);
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["address.street"]);
    let text = errors.to_string();
    assert_eq!(
        text,
        "1 problem found by local validation:\n  - address.street: expected a physical street \
         address (Twilio does not accept PO boxes); found 13 characters, reads as a PO box"
    );
    assert!(!text.contains("4410"), "{text}");
    // Through the flow's error type, for callers that handle one error type.
    let flow_error = FlowError::Invalid(errors);
    assert!(flow_error
        .to_string()
        .starts_with("invalid input, nothing was sent: 1 problem found by local validation:"));
    assert_eq!(emulator.counters().requests_served, 0);
}

#[tokio::test]
async fn missing_field() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let errors = SecondaryProfile::builder()
        .friendly_name("Acme")
        .email("compliance@acme.example.com")
        .representatives(representative(1), representative(2))
        .address(address())
        .primary_profile(emulator.primary_profile_sid().parse().unwrap())
        .build()
        .unwrap_err();
    assert_eq!(errors.errors()[0].kind(), ProblemKind::Required);
    assert_eq!(
        errors.to_string(),
        "1 problem found by local validation:\n  - business_information: expected the business \
         information; found nothing"
    );
    // A required parameter the server misses: Twilio's 400 / 20001, decoded.
    let error = client(&emulator)
        .end_users()
        .create("Acme", "")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.code(), Some(20001));
    assert!(error.to_string().contains("Type"), "{error}");
}

#[tokio::test]
async fn invalid_credentials() {
    // Malformed: refused when the client is built.
    let error = ClientBuilder::from_lookup(|name| match name {
        "TWILIO_ACCOUNT_SID" => Some("AC123".to_owned()),
        "TWILIO_AUTH_TOKEN" => Some("token".to_owned()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "TWILIO_ACCOUNT_SID: invalid AccountSid: found 5 characters, expected 34; expected 34 \
         characters matching ^AC[0-9a-fA-F]{32}$"
    );
    // Well-formed but wrong: Twilio's 401 / 20003, not retried, the token never echoed.
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token("not-the-right-token")
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let error = client.policies().fetch(POLICY).send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.status(), Some(401), "{error:?}");
    assert_eq!(error.code(), Some(20003));
    assert!(!error.is_retryable());
    let text = error.to_string();
    assert_eq!(
        text,
        "FetchPolicies failed with HTTP 401 (Twilio error 20003): Authentication Error - invalid \
         username or password (see https://www.twilio.com/docs/errors/20003); check the account \
         SID and the auth token or API key credentials"
    );
    assert!(!text.contains("not-the-right-token"), "{text}");
    assert_eq!(
        emulator.counters().requests_served,
        1,
        "a 401 is not retried"
    );
}

#[tokio::test]
async fn rate_limit() {
    let emulator =
        start(EmulatorConfig::default().with_faults(Faults::none().with_rate_429(1.0, 0)))
            .await
            .unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_elapsed: Duration::from_secs(30),
        })
        .build()
        .unwrap();
    // Even a POST is retried on 429: Twilio did not process it.
    let error = client
        .customer_profiles()
        .create("Acme", "ops@acme.example.com", POLICY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.attempts(),
        3,
        "expected RetriesExhausted, got {error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
    assert_eq!(error.status(), Some(429), "{error:?}");
    assert_eq!(error.code(), Some(20429));
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert!(
        error
            .to_string()
            .starts_with("CreateCustomerProfile: gave up after 3 attempts; last error: CreateCustomerProfile failed with HTTP 429"),
        "{error}"
    );
    assert_eq!(emulator.counters().customer_profiles, 0);
}

#[tokio::test]
async fn server_error() {
    let emulator = start(EmulatorConfig::default().with_faults(Faults::none().with_rate_500(1.0)))
        .await
        .unwrap();
    let error = client(&emulator)
        .policies()
        .fetch(POLICY)
        .send()
        .await
        .unwrap_err();
    // 500 is not retried (it usually repeats); the code and status are kept.
    assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.status(), Some(500), "{error:?}");
    assert_eq!(error.code(), Some(20500));
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "FetchPolicies failed with HTTP 500 (Twilio error 20500): Internal Server Error (see \
         https://www.twilio.com/docs/errors/20500); Twilio or a gateway failed; retry later and \
         quote the request id to Twilio support if it persists"
    );
    assert_eq!(emulator.counters().requests_served, 1);
}

#[tokio::test]
async fn lost_response() {
    let emulator = start(
        EmulatorConfig::default().with_faults(Faults::none().with_rate_commit_then_drop(1.0)),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    // The create was committed, then the connection closed without an answer: the POST is not
    // sent again (it would duplicate), and the error says to list first.
    let error = client
        .customer_profiles()
        .create("Acme", "ops@acme.example.com", POLICY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("CreateCustomerProfile"));
    assert!(
        matches!(
            error.transport_kind(),
            Some(TransportErrorKind::Request | TransportErrorKind::Body)
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().ends_with(
            "the server may have processed the request; for a create, list before sending it again"
        ),
        "{error}"
    );
    assert_eq!(emulator.counters().customer_profiles, 1);
    // The flow does exactly that: every create whose answer is lost is looked up, not redone.
    emulator.set_faults(Faults::none());
    let flow = input(&emulator, "Acme Lost").build().unwrap();
    emulator.set_faults(Faults::none().with_rate_commit_then_drop(0.5));
    let report = client
        .secondary_profile(&flow)
        .journal(MemoryStore::new())
        .run()
        .await
        .unwrap();
    assert!(report.evaluation.is_compliant(), "{}", report.evaluation);
    let counters = emulator.counters();
    assert!(counters.connections_dropped > 0, "{counters:?}");
    assert_eq!(counters.customer_profiles, 2, "{counters:?}");
    assert_eq!(counters.end_users, 3, "{counters:?}");
}

#[tokio::test]
async fn stale_journal() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let store = MemoryStore::new();
    client
        .secondary_profile(&input(&emulator, "Acme A").build().unwrap())
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    let journal = store.latest().unwrap();
    let before = emulator.counters();
    let error = client
        .secondary_profile(&input(&emulator, "Acme B").build().unwrap())
        .journal(MemoryStore::new())
        .resuming(journal.clone())
        .run()
        .await
        .unwrap_err();
    let FlowError::StaleJournal { detail } = &error else {
        panic!("expected StaleJournal, got {error}");
    };
    // The part is named, never its value.
    assert_eq!(
        detail,
        "the input changed since the journal was written, in parts that resources were created \
         from: bundle (the bundle)"
    );
    assert!(!error.to_string().contains("Acme"), "{error}");
    assert!(
        error
            .to_string()
            .ends_with("; resume with the input that started it, or start a new flow"),
        "{error}"
    );
    assert_eq!(
        emulator.counters().requests_served,
        before.requests_served,
        "nothing sent"
    );

    // Another format, another key: refused, each said as such.
    let key = store.digest_key();
    let flow = input(&emulator, "Acme A").build().unwrap();
    let mut old = journal.clone();
    old.format = 1;
    let detail = stale_detail(flow.reconcile_journal(old, key));
    assert!(
        detail.starts_with("journal format 1, this version reads 2"),
        "{detail}"
    );
    let other_key = DigestKey::generate().unwrap();
    let detail = stale_detail(flow.reconcile_journal(journal.clone(), &other_key));
    assert!(
        detail.starts_with("its digests were made with digest key "),
        "{detail}"
    );

    // A changed part from which nothing was built yet is taken: the primary profile, say,
    // corrected before its assignment was made. The flow then checks it and evaluates again.
    let mut early = journal.clone();
    let primary: trusthub::sid::ObjectSid = emulator.primary_profile_sid().parse().unwrap();
    early.entity_assignments.remove(&primary);
    let other_primary = CustomerProfileSid::from_static("BU00000000000000000000000000000001");
    let corrected = input(&emulator, "Acme A")
        .primary_profile(other_primary)
        .build()
        .unwrap();
    let taken = corrected.reconcile_journal(early, key).unwrap();
    assert_eq!(*taken.input, corrected.input_digests(key));
    assert_eq!(
        (taken.policy, taken.evaluation, taken.compliant),
        (None, None, None)
    );
    assert_eq!(taken.bundle, journal.bundle, "what was created is kept");
    // Once the old primary is assigned, the change is refused.
    let detail = stale_detail(corrected.reconcile_journal(journal, key));
    assert!(
        detail.ends_with("primary_profile (its assignment to the bundle)"),
        "{detail}"
    );
}

fn stale_detail<T: std::fmt::Debug>(result: Result<T, FlowError>) -> String {
    match result {
        Err(FlowError::StaleJournal { detail }) => detail,
        other => panic!("expected StaleJournal, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_resource() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let error = client(&emulator)
        .customer_profiles()
        .fetch(BU)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.code(), Some(20404));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn oversized_text_and_control_characters() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let mut business = fixtures::business();
    business.business_name = "A".repeat(10 * 1024 * 1024); // a whole file pasted in a cell
    let mut address = address();
    address.street = "555 Main\0Street".into();
    let mut rep = representative(1);
    rep.first_name = "Ada\u{1b}[2J".into();
    let errors = input(&emulator, "Acme Limits")
        .business(business)
        .address(address)
        .representative_1(rep)
        .build()
        .unwrap_err();
    let kinds: Vec<(&str, ProblemKind)> = errors.iter().map(|e| (e.field(), e.kind())).collect();
    assert_eq!(
        kinds,
        [
            ("business_information.business_name", ProblemKind::TooLong),
            ("representative_1.first_name", ProblemKind::ControlCharacter),
            ("address.street", ProblemKind::ControlCharacter),
        ]
    );
    let message = errors.to_string();
    assert!(
        message.contains(
            "- business_information.business_name: expected at most 255 characters; found \
             10485760 characters"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "- address.street: expected one line of text without control characters (NUL, line \
             breaks, tabs, escape sequences); found 15 characters, a control character at \
             position 9"
        ),
        "{message}"
    );
    assert!(!message.contains("Main"), "{message}");
    assert_eq!(emulator.counters().requests_served, 0, "nothing was sent");
}

#[test]
fn campaign_outside_the_documented_bounds() {
    use trusthub::flow::a2p::Campaign;
    let campaign = Campaign {
        description: "Codes.".into(),
        message_flow: "Users sign up on our website and tick the consent box.".into(),
        message_samples: vec![
            "Your code is 1234".into(),
            "Acme: sign in at https://acme.example.com/in with code 99".into(),
        ],
        opt_in_keywords: vec!["START".into(), "GO NOW".into()],
        ..Campaign::new("2fa")
    };
    let errors = campaign.validate_at("campaign").unwrap_err();
    let found: Vec<(&str, ProblemKind)> = errors.iter().map(|e| (e.field(), e.kind())).collect();
    assert_eq!(
        found,
        [
            ("campaign.use_case", ProblemKind::Format),
            ("campaign.description", ProblemKind::Length),
            ("campaign.message_samples[0]", ProblemKind::Length),
            ("campaign.message_samples[1]", ProblemKind::Combination),
            ("campaign.opt_in_message", ProblemKind::Combination),
            ("campaign.opt_in_keywords[1]", ProblemKind::Format),
        ]
    );
    let text = errors.to_string();
    assert!(
        text.contains("- campaign.description: expected 40 to 4096 characters; found 6 characters"),
        "{text}"
    );
    assert!(
        text.contains(
            "- campaign.message_samples[1]: expected no link, since has_embedded_links is false \
             (or set it to true); found a sample with a link"
        ),
        "{text}"
    );
    // The values are never repeated.
    assert!(
        !text.contains("Codes.") && !text.contains("GO NOW"),
        "{text}"
    );
}

#[test]
fn a2p_profile_of_a_public_company_without_its_ticker() {
    use trusthub::attributes::{CompanyType, MessagingProfileInformation, StockExchange};
    let public = MessagingProfileInformation {
        stock_exchange: Some(StockExchange::Nyse),
        stock_ticker: Some("TOO-LONG-TICKER".into()),
        brand_contact_email: Some("brand.acme.example.com".into()),
        ..MessagingProfileInformation::new(CompanyType::Public)
    };
    let errors = public.validate().unwrap_err();
    let text = errors.to_string();
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        [
            "a2p_profile.stock_ticker",
            "a2p_profile.brand_contact_email"
        ]
    );
    assert!(
        text.contains(
            "- a2p_profile.stock_ticker: expected a ticker of 1 to 10 letters, digits, '.' or \
             '-'; found 15 characters"
        ),
        "{text}"
    );
    assert!(!text.contains("brand.acme"), "{text}");
}

#[test]
fn low_volume_brand_with_secondary_vetting() {
    use trusthub::attributes::{CompanyType, MessagingProfileInformation};
    use trusthub::flow::a2p::{Brand, BrandType, Journey};
    let errors = Journey::builder()
        .existing_profile(BU.parse().unwrap())
        .trust_product("Acme A2P", "compliance@acme.example.com")
        .messaging_profile(MessagingProfileInformation::new(CompanyType::Private))
        .brand(Brand {
            skip_automatic_secondary_vetting: Some(false),
            ..Brand::new(BrandType::LowVolumeStandard)
        })
        .messaging_service("Acme")
        .campaign(fixtures::campaign())
        .build()
        .unwrap_err();
    assert_eq!(
        errors.to_string(),
        "1 problem found by local validation:\n  - brand.skip_automatic_secondary_vetting: \
         expected true (or unset) for a Low-Volume Standard brand, which must skip secondary \
         vetting; found false"
    );
}

#[tokio::test]
async fn use_case_the_brand_is_not_offered() {
    use std::time::Duration;
    use trusthub::flow::a2p::Campaign;
    use trusthub_emulator::Decision;
    let emulator = start(
        EmulatorConfig::default()
            .with_auto_decision(Duration::from_millis(10), Decision::Approve)
            .with_brand_decision(Duration::from_millis(10), Decision::Approve),
    )
    .await
    .unwrap();
    let input = fixtures::journey(&emulator, "Acme Use Case", 0)
        .campaign(Campaign {
            use_case: "SOLE_PROPRIETOR".into(),
            ..fixtures::campaign()
        })
        .build()
        .unwrap();
    let error = client(&emulator)
        .a2p_journey(&input)
        .wait_for_brand(Duration::from_secs(10))
        .poll(Duration::from_millis(10))
        .run()
        .await
        .unwrap_err();
    let FlowError::UseCaseUnavailable { offered, .. } = &error else {
        panic!("{error}");
    };
    assert!(offered.iter().any(|u| u == "2FA"), "{offered:?}");
    assert!(error
        .to_string()
        .starts_with("use case `SOLE_PROPRIETOR` is not offered for brand BN"));
    assert!(
        error.to_string().ends_with("; no campaign was created"),
        "{error}"
    );
    assert_eq!(emulator.counters().campaigns, 0);
}
