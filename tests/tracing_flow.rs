//! Everything the client logs at TRACE through a whole flow (validation, 15 requests, the
//! journal, submission) holds no secret and no personal data.

use std::io::Write;
use std::sync::{Arc, Mutex};

use trusthub::attributes::{
    Address, AuthorizedRepresentative, BusinessIdentity, BusinessIndustry, BusinessInformation,
    BusinessType, JobPosition, Region, Regions, RegistrationIdentifier,
};
use trusthub::flow::{MemoryStore, SecondaryProfile};
use trusthub::Client;
use trusthub_emulator::{start, EmulatorConfig};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PII: [&str; 12] = [
    "Zebulon Quartermaine",
    "Zebulon",
    "Quartermaine",
    "zq@quartermaine-holdings.example.com",
    "+14155550177",
    "+14155550188",
    "Xanthippe",
    "987654321",
    "1 Quixotic Boulevard",
    "Quartermaine Holdings",
    "Floor 77",
    "ops@quartermaine-holdings.example.com",
];

#[tokio::test]
async fn a_whole_flow_at_trace_logs_no_secret_and_no_personal_data() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let token = "tok-SECRET-0123456789abcdef01234567";
    let emulator = start(
        EmulatorConfig::default().with_credentials(trusthub_emulator::DEFAULT_ACCOUNT_SID, token),
    )
    .await
    .unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(token)
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let rep = |first: &str, email: &str, phone: &str| AuthorizedRepresentative {
        first_name: first.into(),
        last_name: "Quartermaine".into(),
        email: email.into(),
        phone_number: phone.into(),
        business_title: "Chief Executive".into(),
        job_position: JobPosition::Ceo,
    };
    let flow = SecondaryProfile::builder()
        .friendly_name("Quartermaine Holdings")
        .email("ops@quartermaine-holdings.example.com")
        .business(BusinessInformation {
            business_name: "Quartermaine Holdings".into(),
            business_identity: BusinessIdentity::DirectCustomer,
            business_type: BusinessType::Corporation,
            business_industry: BusinessIndustry::Retail,
            business_registration_identifier: RegistrationIdentifier::Ein,
            business_registration_number: "987654321".into(),
            business_regions_of_operation: Regions::from([Region::UsaAndCanada]),
            website_url: "https://quartermaine-holdings.example.com".into(),
            social_media_profile_urls: vec![],
        })
        .representatives(
            rep(
                "Zebulon",
                "zq@quartermaine-holdings.example.com",
                "+14155550177",
            ),
            rep(
                "Xanthippe",
                "xq@quartermaine-holdings.example.com",
                "+14155550188",
            ),
        )
        .address(Address {
            customer_name: "Zebulon Quartermaine".into(),
            street: "1 Quixotic Boulevard".into(),
            street_secondary: Some("Floor 77".into()),
            city: "Springfield".into(),
            region: "IL".into(),
            postal_code: "62701".into(),
            iso_country: "US".into(),
            friendly_name: None,
            emergency_enabled: None,
            auto_correct_address: None,
        })
        .primary_profile(emulator.primary_profile_sid().parse().unwrap())
        .phone_numbers([emulator.phone_number_sids()[0].parse().unwrap()])
        .build()
        .unwrap();
    let mut report = client
        .secondary_profile(&flow)
        .journal(MemoryStore::new())
        .run()
        .await
        .unwrap();
    report
        .submit(trusthub::Submission::WhenCompliant)
        .await
        .unwrap();
    // Debug output of everything the user holds is covered too.
    tracing::trace!(?flow, ?report, ?client, "user-side debug output");

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    // The emulator runs in this process; its own log lines are not the client's.
    let client_logs: String = logs
        .lines()
        .filter(|l| !l.contains("trusthub_emulator"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        client_logs.contains("trusthub.request"),
        "the request spans are captured"
    );
    assert!(
        client_logs.contains("trusthub.flow"),
        "the flow's events are captured"
    );
    assert!(
        client_logs.lines().count() > 50,
        "TRACE output is captured:\n{client_logs}"
    );
    for needle in PII.iter().chain([&token]) {
        assert!(
            !client_logs.contains(needle),
            "{needle:?} appears in the logs:\n{client_logs}"
        );
    }
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{token}", emulator.account_sid()),
    );
    assert!(
        !client_logs.contains(&basic),
        "the Authorization header appears in the logs"
    );
}
