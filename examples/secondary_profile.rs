//! The Secondary Customer Profile flow, end to end.
//!
//! ```text
//! cargo run --example secondary_profile                    # against an embedded emulator
//! TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... \
//!   cargo run --example secondary_profile -- --primary-profile BU... [--phone-number PN...] [--submit]
//! ```
//!
//! Without credentials in the environment it starts the embedded emulator and says so. With
//! `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` (or `TWILIO_API_KEY` + `TWILIO_API_SECRET`) it
//! talks to Twilio (or to `TWILIO_BASE_URL`), creating a real profile from the sample business
//! below: edit it first. It submits for review only with `--submit`.
//!
//! It prints each step with its SID and latency, the evaluation, and the final status.
//! `RUST_LOG=trusthub=debug` also traces every request on stderr (operation, path template,
//! status, latency; never a secret nor the business's data).

use std::sync::Arc;
use std::time::Duration;

use trusthub::attributes::{
    Address, AuthorizedRepresentative, BusinessIdentity, BusinessIndustry, BusinessInformation,
    BusinessType, JobPosition, Region, Regions, RegistrationIdentifier,
};
use trusthub::flow::{FlowOptions, MemoryStore, Observer, SecondaryProfile, StepRecord};
use trusthub::sid::{CustomerProfileSid, PhoneNumberSid};
use trusthub::Client;

struct Args {
    primary_profile: Option<CustomerProfileSid>,
    phone_numbers: Vec<PhoneNumberSid>,
    submit: bool,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: secondary_profile [--primary-profile BU...] [--phone-number PN...]... [--submit]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        primary_profile: None,
        phone_numbers: Vec::new(),
        submit: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--primary-profile" => {
                let v = it
                    .next()
                    .unwrap_or_else(|| usage("--primary-profile needs a BU SID"));
                args.primary_profile = Some(
                    v.parse()
                        .unwrap_or_else(|e| usage(&format!("--primary-profile: {e}"))),
                );
            }
            "--phone-number" => {
                let v = it
                    .next()
                    .unwrap_or_else(|| usage("--phone-number needs a PN SID"));
                args.phone_numbers.push(
                    v.parse()
                        .unwrap_or_else(|e| usage(&format!("--phone-number: {e}"))),
                );
            }
            "--submit" => args.submit = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    args
}

/// The sample business. Edit before running against Twilio.
fn sample(primary: CustomerProfileSid, phone_numbers: Vec<PhoneNumberSid>) -> SecondaryProfile {
    let representative =
        |first: &str, email: &str, phone: &str, position| AuthorizedRepresentative {
            first_name: first.into(),
            last_name: "Example".into(),
            email: email.into(),
            phone_number: phone.into(),
            business_title: "Officer".into(),
            job_position: position,
        };
    let built = SecondaryProfile::builder()
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
            representative(
                "Ada",
                "ada@acme.example.com",
                "+14155550101",
                JobPosition::Ceo,
            ),
            representative(
                "Grace",
                "grace@acme.example.com",
                "+14155550102",
                JobPosition::Cfo,
            ),
        )
        .address(Address {
            customer_name: "Acme Corp".into(),
            street: "555 Main Street".into(),
            street_secondary: Some("Suite 200".into()),
            city: "San Francisco".into(),
            region: "CA".into(),
            postal_code: "94105".into(),
            iso_country: "US".into(),
            friendly_name: None,
            emergency_enabled: None,
            auto_correct_address: None,
        })
        .primary_profile(primary)
        .phone_numbers(phone_numbers)
        .build();
    match built {
        Ok(flow) => flow,
        Err(errors) => {
            eprintln!("the input is invalid:\n{errors}");
            std::process::exit(1);
        }
    }
}

fn print_step(step: &StepRecord) {
    println!(
        "  {:<62} {:<34} {:>5.0} ms  {:?}",
        step.step.to_string(),
        step.sid.as_ref().map_or("-", |sid| sid.as_str()),
        step.elapsed.as_secs_f64() * 1e3,
        step.outcome
    );
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
async fn main() {
    init_logging();
    let args = parse_args();
    let has_credentials = std::env::var_os("TWILIO_ACCOUNT_SID").is_some();
    let mut _emulator = None;
    let (client, primary, phone_numbers, submit) = if has_credentials {
        let client = Client::from_env().unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(2)
        });
        let primary = args.primary_profile.unwrap_or_else(|| {
            usage("--primary-profile BU... is required against Twilio: the SID of your twilio-approved primary customer profile")
        });
        println!(
            "talking to Twilio as {} (edit the sample business in examples/secondary_profile.rs first)",
            client.account_sid()
        );
        (client, primary, args.phone_numbers, args.submit)
    } else {
        let config = trusthub_emulator::EmulatorConfig::default().with_auto_decision(
            Duration::from_millis(300),
            trusthub_emulator::Decision::Approve,
        );
        let emulator = trusthub_emulator::start(config)
            .await
            .expect("start the embedded emulator");
        println!(
            "no TWILIO_ACCOUNT_SID in the environment: using an embedded Trust Hub emulator at {}",
            emulator.base_url()
        );
        let client = Client::builder()
            .account_sid(
                emulator
                    .account_sid()
                    .parse()
                    .expect("emulator account SID"),
            )
            .auth_token(emulator.auth_token())
            .base_url(emulator.base_url())
            .build()
            .expect("emulator client");
        let primary = emulator
            .primary_profile_sid()
            .parse()
            .expect("emulator primary profile");
        let phone = emulator.phone_number_sids()[0]
            .parse()
            .expect("emulator phone number");
        _emulator = Some(emulator);
        (client, primary, vec![phone], true)
    };

    let flow = sample(primary, phone_numbers);
    for warning in flow.warnings() {
        println!("warning: {warning}");
    }
    println!("steps 1-9 (each step starts as soon as its inputs exist):");
    let observer: Observer = Arc::new(print_step);
    let options = FlowOptions {
        observer: Some(observer),
        ..FlowOptions::default()
    };
    let mut report = match client
        .secondary_profile(&flow)
        .journal(MemoryStore::new())
        .options(options)
        .run()
        .await
    {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "bundle {} created in {:.0} ms",
        report.bundle(),
        report.elapsed.as_secs_f64() * 1e3
    );
    print!("{}", report.evaluation);
    if !report.evaluation.is_compliant() {
        println!("not compliant: nothing submitted");
        std::process::exit(1);
    }
    if !submit {
        println!("compliant; run again with --submit to submit it for review (step 10)");
        return;
    }
    let started = std::time::Instant::now();
    match report.submit(trusthub::Submission::WhenCompliant).await {
        Ok(status) => println!(
            "step 10: submitted for review: {status} ({:.0} ms)",
            started.elapsed().as_secs_f64() * 1e3
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    let poll = Duration::from_millis(if has_credentials { 30_000 } else { 50 });
    let timeout = Duration::from_secs(if has_credentials { 60 } else { 10 });
    match report.wait_for_review(timeout, poll).await {
        Ok(status) => println!("status: {status}"),
        Err(e) => println!("{e}"),
    }
    if !has_credentials {
        match report.wait_for_decision(timeout, poll).await {
            Ok(status) => println!("final status: {status}"),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    } else {
        println!(
            "Twilio reviews within days; follow the status with the status callback or `trusthub profile status`"
        );
    }
}
