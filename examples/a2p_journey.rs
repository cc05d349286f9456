//! The A2P 10DLC journey, end to end, on the embedded emulator.
//!
//! ```text
//! cargo run --example a2p_journey
//! ```
//!
//! It starts a local emulator that approves bundles, brands and campaigns shortly after they
//! are submitted (as Twilio and The Campaign Registry do after minutes to weeks), then runs one
//! customer's journey: the secondary profile and its submission, the A2P Messaging Profile trust
//! product, the brand, the Messaging Service with a phone number, and the campaign. It prints
//! each step with its SID and latency, the brand's and the campaign's decisions, and what the
//! customer was charged (the emulator's fee counter: one brand, one campaign).
//! `RUST_LOG=trusthub=debug` also traces every request on stderr.

use std::sync::Arc;
use std::time::Duration;

use trusthub::attributes::{
    Address, AuthorizedRepresentative, BusinessIdentity, BusinessIndustry, BusinessInformation,
    BusinessType, CompanyType, JobPosition, MessagingProfileInformation, Region, Regions,
    RegistrationIdentifier,
};
use trusthub::flow::a2p::{Brand, BrandType, Campaign, Journey, Stage};
use trusthub::flow::{FlowOptions, MemoryStore, SecondaryProfile, StepRecord};
use trusthub::Client;
use trusthub_emulator::{Decision, EmulatorConfig};

fn print_step(step: &StepRecord) {
    println!(
        "  {:<74} {:<34} {:>5.0} ms  {:?}",
        step.step.to_string(),
        step.sid.as_ref().map_or("-", |sid| sid.as_str()),
        step.elapsed.as_secs_f64() * 1e3,
        step.outcome
    );
}

fn representative(first: &str, position: JobPosition) -> AuthorizedRepresentative {
    AuthorizedRepresentative {
        first_name: first.into(),
        last_name: "Example".into(),
        email: format!("{}@acme.example.com", first.to_lowercase()),
        phone_number: "+14155550101".into(),
        business_title: "Officer".into(),
        job_position: position,
    }
}

/// Traces on stderr as RUST_LOG asks (e.g. `RUST_LOG=trusthub=debug`: every request's operation,
/// path template, status and latency; never a secret nor the business's data). Without RUST_LOG,
/// nothing is traced.
fn init_logging() {
    let Some(directives) = std::env::var("RUST_LOG")
        .ok()
        .filter(|d| !d.trim().is_empty())
    else {
        return;
    };
    match tracing_subscriber::EnvFilter::builder().parse(&directives) {
        Ok(filter) => tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init(),
        Err(e) => eprintln!(
            "warning: RUST_LOG: {e}: expected tracing directives such as `debug` or \
             `trusthub=debug`; nothing is traced"
        ),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let decide = Duration::from_millis(200);
    let emulator = trusthub_emulator::start(
        EmulatorConfig::default()
            .with_auto_decision(decide, Decision::Approve)
            .with_brand_decision(decide, Decision::Approve)
            .with_campaign_decision(decide, Decision::Approve),
    )
    .await?;
    println!("embedded emulator at {}", emulator.base_url());
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse()?)
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .build()?;
    let phone = emulator.phone_number_sids()[0].parse()?;

    let profile = SecondaryProfile::builder()
        .friendly_name("Acme Corp")
        .email("compliance@acme.example.com")
        .business(BusinessInformation {
            business_name: "Acme Corp".into(),
            business_identity: BusinessIdentity::DirectCustomer,
            business_type: BusinessType::LimitedLiabilityCorporation,
            business_industry: BusinessIndustry::Technology,
            business_registration_identifier: RegistrationIdentifier::Ein,
            business_registration_number: "123456789".into(),
            business_regions_of_operation: Regions::from([Region::UsaAndCanada]),
            website_url: "https://acme.example.com".into(),
            social_media_profile_urls: vec![],
        })
        .representatives(
            representative("Ada", JobPosition::Ceo),
            representative("Grace", JobPosition::Cfo),
        )
        .address(Address {
            customer_name: "Acme Corp".into(),
            street: "555 Main Street".into(),
            city: "San Francisco".into(),
            region: "CA".into(),
            postal_code: "94105".into(),
            iso_country: "US".into(),
            ..Address::default()
        })
        .primary_profile(emulator.primary_profile_sid().parse()?)
        .phone_numbers([phone])
        .build()?;
    let campaign = Campaign {
        description: "One-time passcodes that Acme sends to its customers when they sign in."
            .into(),
        message_flow: "Customers give their mobile number on acme.example.com/signup and tick a \
                       box agreeing to receive sign-in codes."
            .into(),
        message_samples: vec![
            "Acme: your sign-in code is 123456. It expires in 10 minutes.".into(),
            "Acme: 654321 is your code. Reply STOP to opt out, HELP for help.".into(),
        ],
        opt_out_keywords: vec!["STOP".into()],
        opt_out_message: Some("Acme: you are unsubscribed and will get no more messages.".into()),
        help_keywords: vec!["HELP".into()],
        help_message: Some("Acme: for help write to support@acme.example.com.".into()),
        ..Campaign::new("2FA")
    };
    let journey = Journey::builder()
        .secondary_profile(profile)
        .messaging_profile(MessagingProfileInformation::new(CompanyType::Private))
        .brand(Brand::new(BrandType::LowVolumeStandard))
        .messaging_service("Acme sign-in codes")
        .campaign(campaign)
        .phone_numbers([phone])
        .build()?;

    let options = FlowOptions {
        observer: Some(Arc::new(print_step)),
        ..FlowOptions::default()
    };
    println!("journey:");
    let report = client
        .a2p_journey(&journey)
        .journal(MemoryStore::new())
        .options(options)
        .wait_for_brand(Duration::from_secs(30))
        .wait_for_campaign(Duration::from_secs(30))
        .poll(Duration::from_millis(100))
        .run()
        .await?;
    let brand = client
        .brand_registrations()
        .fetch(report.brand().expect("registered"))
        .send()
        .await?;
    println!(
        "brand {}: {} (TCR id {}, score {})",
        report.brand().expect("registered"),
        brand.status.as_ref().map_or("?", |s| s.as_str()),
        brand.tcr_id.as_deref().unwrap_or("-"),
        brand.brand_score.map_or("-".to_owned(), |s| s.to_string()),
    );
    println!("{}", report.stage);
    let counters = emulator.counters();
    println!(
        "in {:.2} s: {} steps, {} requests; the customer paid {} fees ({} brand, {} campaign); {} \
         number(s) on the service",
        report.elapsed.as_secs_f64(),
        report.steps.len(),
        counters.requests_served,
        counters.fees,
        counters.brand_registrations,
        counters.campaigns,
        counters.messaging_service_phone_numbers,
    );
    if !matches!(report.stage, Stage::Registered { .. }) {
        return Err(format!("the journey stopped at: {}", report.stage).into());
    }
    emulator.shutdown().await;
    Ok(())
}
