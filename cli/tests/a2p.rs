//! `trusthub onboard` with A2P 10DLC rows against an emulator started by the test: a batch
//! registered end to end, a batch left waiting for TCR then finished by `--refresh` without a
//! second brand or campaign, a signal stopping rows that only wait, bad A2P rows refused by
//! column, `trusthub schema` and `profile create` of an A2P file.

use crate::support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{
    a2p_customer, a2p_header, customer, journal_customers, pii, read_report, set_in, temp_dir,
    write_table, TestEmulator,
};
use trusthub_emulator::{Decision, EmulatorConfig};

/// What no output may hold besides the profile's personal data: the A2P free text of row `i`.
fn a2p_texts(i: u64) -> Vec<String> {
    vec![
        format!("Zephyrwidget {i} notifications"),
        format!("Zephyrwidget {i}'s customers"),
        format!("zephyr{i}.example.com and tick"),
        format!("your code is {i}23456"),
    ]
}

fn assert_private(rows: u64, texts: &[(&str, &str)]) {
    for i in 1..=rows {
        for value in pii(i).into_iter().chain(a2p_texts(i)) {
            for (what, text) in texts {
                assert!(
                    !text.contains(&value),
                    "row {i}'s data {value:?} appears in {what}"
                );
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `trusthub onboard CSV --journal J` and `extra` arguments.
fn onboard(emulator: &TestEmulator, csv: &Path, journal: &Path, extra: &[&str]) -> Output {
    emulator
        .command()
        .arg("onboard")
        .arg(csv)
        .arg("--journal")
        .arg(journal)
        .args(extra)
        .output()
        .unwrap()
}

fn by_row(report: &[HashMap<String, String>], row: usize) -> &HashMap<String, String> {
    &report[row - 1]
}

#[test]
fn an_a2p_batch_is_registered_and_the_report_shows_brands_and_campaigns() {
    let emulator = TestEmulator::with_config(
        EmulatorConfig::default()
            .with_brand_decision(Duration::from_millis(20), Decision::Approve)
            .with_campaign_decision(Duration::from_millis(20), Decision::Approve),
    );
    let dir = temp_dir("a2p-registered");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let numbers = emulator.phone_numbers();
    let header = a2p_header();
    // Rows 1-3 run the journey (each service gets a number of its own); row 4 has empty A2P
    // cells: it onboards its profile only.
    let mut rows: Vec<Vec<String>> = (1..=3)
        .map(|i| a2p_customer(i, &primary, &phone, Some(&numbers[i as usize - 1])))
        .collect();
    let mut profile_only = customer(4, &primary, &phone);
    profile_only.resize(header.len(), String::new());
    rows.push(profile_only);
    let csv = dir.join("customers.csv");
    write_table(&csv, &header, &rows);
    let journal = dir.join("onboard.journal");

    let waits = [
        "--brand-wait",
        "20",
        "--campaign-wait",
        "20",
        "--poll",
        "0.02",
    ];
    let output = onboard(&emulator, &csv, &journal, &waits);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("4 rows: 1 compliant, 3 registered"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ROW  RESULT      BRAND") && stdout.contains("VERIFIED"),
        "{stdout}"
    );

    let (header_out, report) = read_report(&dir.join("onboard.report.csv"));
    for column in [
        "trust_product_sid",
        "messaging_service_sid",
        "brand_sid",
        "brand_status",
        "campaign_sid",
        "campaign_status",
    ] {
        assert!(header_out.iter().any(|h| h == column), "{header_out:?}");
    }
    for row in 1..=3 {
        let r = by_row(&report, row);
        assert_eq!(r["result"], "registered", "{r:?}");
        assert_eq!(r["run"], "new", "{r:?}");
        assert!(r["bundle_sid"].starts_with("BU"), "{r:?}");
        assert!(r["trust_product_sid"].starts_with("BU"), "{r:?}");
        assert!(r["messaging_service_sid"].starts_with("MG"), "{r:?}");
        assert!(r["brand_sid"].starts_with("BN"), "{r:?}");
        assert_eq!(r["brand_status"], "APPROVED", "{r:?}");
        assert!(r["campaign_sid"].starts_with("QE"), "{r:?}");
        assert_eq!(r["campaign_status"], "VERIFIED", "{r:?}");
        assert_eq!(r["failures"], "", "{r:?}");
    }
    let r = by_row(&report, 4);
    assert_eq!(r["result"], "compliant", "{r:?}");
    assert_eq!(r["brand_sid"], "", "{r:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("onboard.report.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["registered"], 3);
    assert_eq!(json["summary"]["compliant"], 1);
    assert_eq!(json["rows"][0]["a2p"], true);
    assert_eq!(json["rows"][3]["a2p"], false);
    assert_eq!(json["rows"][0]["campaign_status"], "VERIFIED");

    let c = emulator.counters();
    assert_eq!(
        (c.brand_registrations, c.campaigns, c.fees),
        (3, 3, 6),
        "{c:?}"
    );
    assert_eq!(c.messaging_services, 3, "{c:?}");
    assert_eq!(c.messaging_service_phone_numbers, 3, "{c:?}");
    assert_eq!(c.trust_products, 3, "{c:?}");
    assert_eq!(c.customer_profiles, 4, "{c:?}");

    let journal_text = std::fs::read_to_string(&journal).unwrap();
    assert!(journal_text.contains("\"a2p\""), "the journey is journaled");
    assert_private(
        4,
        &[
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("the journal", &journal_text),
            (
                "the CSV report",
                &std::fs::read_to_string(dir.join("onboard.report.csv")).unwrap(),
            ),
            (
                "the JSON report",
                &std::fs::read_to_string(dir.join("onboard.report.json")).unwrap(),
            ),
        ],
    );

    // Again: every row is reported from the journal, nothing is created.
    let before = emulator.counters();
    let output = onboard(&emulator, &csv, &journal, &["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let again: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(again["summary"]["registered"], 3);
    assert!(again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["run"] == "earlier"));
    let after = emulator.counters();
    assert_eq!(
        (
            after.customer_profiles,
            after.trust_products,
            after.brand_registrations,
            after.campaigns,
            after.messaging_services
        ),
        (
            before.customer_profiles,
            before.trust_products,
            before.brand_registrations,
            before.campaigns,
            before.messaging_services
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rows_left_waiting_are_finished_by_refresh_without_a_second_brand_or_campaign() {
    // The test decides each brand and campaign; Twilio approves the profiles and the A2P trust
    // products (a refresh reports a row waiting while any of them is under review).
    let emulator = TestEmulator::with_config(
        EmulatorConfig::default().with_auto_decision(Duration::from_millis(10), Decision::Approve),
    );
    let dir = temp_dir("a2p-refresh");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let header = a2p_header();
    let rows: Vec<Vec<String>> = (1..=3)
        .map(|i| a2p_customer(i, &primary, &phone, None))
        .collect();
    let csv = dir.join("customers.csv");
    write_table(&csv, &header, &rows);
    let journal = dir.join("onboard.journal");

    // Zero waits: one look at each brand, every row ends waiting (exit 3, not a failure).
    let output = onboard(&emulator, &csv, &journal, &[]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("3 rows: 0 registered, 3 waiting for review"),
        "{stdout}"
    );
    assert!(stdout.contains("row 1: waiting for brand BN"), "{stdout}");
    assert!(stderr.contains("--refresh"), "{stderr}");
    let (_, first) = read_report(&dir.join("onboard.report.csv"));
    let brands: Vec<String> = first.iter().map(|r| r["brand_sid"].clone()).collect();
    for r in &first {
        assert_eq!(r["result"], "waiting", "{r:?}");
        assert_eq!(r["brand_status"], "PENDING", "{r:?}");
        assert_eq!(r["campaign_sid"], "", "{r:?}");
        assert!(r["brand_sid"].starts_with("BN"), "{r:?}");
    }
    // The journal holds each brand and its status.
    let journals = journal_customers(&journal);
    assert_eq!(journals.len(), 3);
    for j in journals.values() {
        assert_eq!(j["a2p"]["brand_status"], "PENDING", "{j}");
        assert!(brands.contains(&j["a2p"]["brand"].as_str().unwrap().to_owned()));
    }
    assert_eq!(emulator.counters().brand_registrations, 3);

    // A refresh before any decision: still waiting, nothing created; a new row is not started.
    let mut more = rows.clone();
    more.push(a2p_customer(4, &primary, &phone, None));
    let csv_more = dir.join("more.csv");
    write_table(&csv_more, &header, &more);
    let before = emulator.counters();
    let output = onboard(&emulator, &csv_more, &journal, &["--refresh"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let (_, report) = read_report(&dir.join("onboard.report.csv"));
    for row in 1..=3 {
        assert_eq!(by_row(&report, row)["result"], "waiting");
        assert_eq!(by_row(&report, row)["run"], "resumed");
    }
    let r = by_row(&report, 4);
    assert_eq!(
        (r["result"].as_str(), r["run"].as_str()),
        ("pending", "skipped")
    );
    assert!(r["failures"].contains("--refresh starts nothing"), "{r:?}");
    let after = emulator.counters();
    assert_eq!(after.customer_profiles, before.customer_profiles);
    assert_eq!(after.brand_registrations, 3);

    // TCR approves brands 1 and 2 and fails brand 3 (its reason quotes the business's data).
    emulator.decide_brand(&brands[0], Decision::Approve);
    emulator.decide_brand(&brands[1], Decision::Approve);
    emulator.decide_brand(
        &brands[2],
        Decision::Reject {
            reason: "EIN 13-7300003 does not match Zephyrwidget Holdings 3".into(),
        },
    );
    let output = onboard(&emulator, &csv, &journal, &["--refresh"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(
        output.status.code(),
        Some(1),
        "a rejected brand fails: {stdout}"
    );
    assert!(
        stdout.starts_with("3 rows: 0 registered, 2 waiting for review, 1 rejected"),
        "{stdout}"
    );
    let (_, second) = read_report(&dir.join("onboard.report.csv"));
    let mut campaigns = Vec::new();
    for row in 1..=2 {
        let r = by_row(&second, row);
        assert_eq!(r["result"], "waiting", "{r:?}");
        assert_eq!(r["brand_status"], "APPROVED", "{r:?}");
        assert_eq!(r["campaign_status"], "IN_PROGRESS", "{r:?}");
        assert!(r["campaign_sid"].starts_with("QE"), "{r:?}");
        campaigns.push(r["campaign_sid"].clone());
    }
    let r = by_row(&second, 3);
    assert_eq!(r["result"], "rejected", "{r:?}");
    assert_eq!(r["brand_status"], "FAILED", "{r:?}");
    assert!(r["failures"].starts_with("brand: error "), "{r:?}");
    assert!(stdout.contains("row 3: rejected"), "{stdout}");
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains("13-7300003"), "the reason leaked in {what}");
    }
    let c = emulator.counters();
    assert_eq!((c.brand_registrations, c.campaigns), (3, 2), "{c:?}");

    // The carriers verify both campaigns: the last refresh registers the rows, creating nothing.
    for campaign in &campaigns {
        emulator.decide_campaign(campaign, Decision::Approve);
    }
    let output = onboard(&emulator, &csv, &journal, &["--refresh", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let last: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(last["summary"]["registered"], 2, "{last}");
    assert_eq!(last["summary"]["rejected"], 1, "{last}");
    for row in 0..2 {
        assert_eq!(last["rows"][row]["result"], "registered");
        assert_eq!(last["rows"][row]["campaign_sid"], campaigns[row].as_str());
        assert_eq!(last["rows"][row]["brand_sid"], brands[row].as_str());
    }
    let c = emulator.counters();
    assert_eq!(
        (c.brand_registrations, c.campaigns, c.fees),
        (3, 2, 5),
        "no brand nor campaign twice: {c:?}"
    );
    assert_eq!(c.customer_profiles, 3);
    assert_eq!(c.trust_products, 3);

    let journal_text = std::fs::read_to_string(&journal).unwrap();
    let report_text = std::fs::read_to_string(dir.join("onboard.report.json")).unwrap();
    assert!(!report_text.contains("13-7300003"));
    assert_private(
        3,
        &[
            ("the journal", &journal_text),
            ("the JSON report", &report_text),
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_signal_stops_rows_that_only_wait_for_review_at_once() {
    let emulator = TestEmulator::with_config(EmulatorConfig::default());
    let dir = temp_dir("a2p-signal");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let header = a2p_header();
    let rows: Vec<Vec<String>> = (1..=2)
        .map(|i| a2p_customer(i, &primary, &phone, None))
        .collect();
    let csv = dir.join("customers.csv");
    write_table(&csv, &header, &rows);
    let journal = dir.join("onboard.journal");
    let mut child = emulator
        .command()
        .arg("onboard")
        .arg(&csv)
        .arg("--journal")
        .arg(&journal)
        .args(["--brand-wait", "600", "--poll", "0.05"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Both rows registered their brand and follow its vetting (for up to ten minutes).
    loop {
        let customers = journal_customers(&journal);
        let waiting = customers
            .values()
            .filter(|j| {
                j["a2p"]["brand"].is_string()
                    && j["intents"].as_object().is_none_or(|i| i.is_empty())
            })
            .count();
        if waiting == 2 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the batch ended early");
        assert!(Instant::now() < deadline, "no brand in time");
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(20),
        "the waiting rows did not stop at once"
    );
    assert!(
        stderr.contains("only waiting for a review stop now"),
        "{stderr}"
    );
    let (_, report) = read_report(&dir.join("onboard.report.csv"));
    for r in &report {
        assert_eq!(r["result"], "pending", "{r:?}");
        assert_eq!(r["run"], "interrupted", "{r:?}");
        assert!(r["brand_sid"].starts_with("BN"), "{r:?}");
    }
    // Resumed: the same brands, none created twice.
    let brand = by_row(&report, 1)["brand_sid"].clone();
    emulator.decide_brand(&brand, Decision::Approve);
    let output = onboard(&emulator, &csv, &journal, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stdout));
    let (_, again) = read_report(&dir.join("onboard.report.csv"));
    assert_eq!(by_row(&again, 1)["brand_sid"], brand);
    assert_eq!(by_row(&again, 1)["campaign_status"], "IN_PROGRESS");
    assert_eq!(by_row(&again, 2)["brand_status"], "PENDING");
    let c = emulator.counters();
    assert_eq!((c.brand_registrations, c.campaigns), (2, 1), "{c:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_a2p_rows_are_refused_by_column_without_their_values() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("a2p-bad");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let header = a2p_header();
    let mut rows: Vec<Vec<String>> = (1..=3)
        .map(|i| a2p_customer(i, &primary, &phone, None))
        .collect();
    // Row 1: a description too short. Row 2: a public company without exchange, ticker or
    // contact email. Row 3: a sample too short, a brand type mistyped.
    set_in(
        &header,
        &mut rows[0],
        "campaign.description",
        "Quorvane secret text",
    );
    set_in(&header, &mut rows[1], "a2p.company_type", "public");
    set_in(
        &header,
        &mut rows[2],
        "campaign.message_samples",
        "Zephyrwidget: your code is 323456, valid for 10 minutes.|Quorvane",
    );
    set_in(&header, &mut rows[2], "brand.type", "low_volume_standard");
    let csv = dir.join("customers.csv");
    write_table(&csv, &header, &rows);
    let output = onboard(&emulator, &csv, &dir.join("onboard.journal"), &[]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("3 rows: 0 registered, 3 invalid"),
        "{stdout}"
    );
    let (_, report) = read_report(&dir.join("onboard.report.csv"));
    let failures = |row: usize| by_row(&report, row)["failures"].clone();
    assert!(
        failures(1).starts_with(
            "campaign.description: expected 40 to 4096 characters; found 20 characters"
        ),
        "{}",
        failures(1)
    );
    for column in [
        "a2p.stock_exchange:",
        "a2p.stock_ticker:",
        "a2p.brand_contact_email:",
    ] {
        assert!(failures(2).contains(column), "{column}: {}", failures(2));
    }
    assert!(
        failures(3).contains("campaign.message_samples[1]: expected 20 to 1024 characters"),
        "{}",
        failures(3)
    );
    assert!(
        failures(3).contains("brand.type: expected one of \"STANDARD\", \"LOW_VOLUME_STANDARD\""),
        "{}",
        failures(3)
    );
    for r in &report {
        assert_eq!(r["result"], "invalid", "{r:?}");
        assert_eq!(r["run"], "skipped", "{r:?}");
    }
    let report_text = std::fs::read_to_string(dir.join("onboard.report.json")).unwrap();
    for (what, text) in [("stdout", &stdout), ("the report", &report_text)] {
        assert!(!text.contains("Quorvane"), "a value leaked in {what}");
    }
    assert_private(3, &[("stdout", &stdout), ("stderr", &stderr)]);
    let c = emulator.counters();
    assert_eq!(
        (c.customer_profiles, c.brand_registrations),
        (0, 0),
        "{c:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn schema_lists_the_a2p_keys() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let output = emulator.command().arg("schema").output().unwrap();
    assert!(output.status.success());
    let table = text(&output.stdout);
    let output = emulator
        .command()
        .args(["schema", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: HashMap<&str, &serde_json::Value> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap(), f))
        .collect();
    for key in [
        "a2p.company_type",
        "a2p.stock_exchange",
        "a2p.stock_ticker",
        "a2p.brand_contact_email",
        "a2p.trust_product_name",
        "a2p.trust_product_email",
        "brand.type",
        "brand.mock",
        "brand.skip_secondary_vetting",
        "messaging_service.friendly_name",
        "messaging_service.sid",
        "messaging_service.phone_number_sids",
        "campaign.use_case",
        "campaign.description",
        "campaign.message_flow",
        "campaign.message_samples",
        "campaign.has_embedded_links",
        "campaign.has_embedded_phone",
        "campaign.opt_in_keywords",
        "campaign.opt_out_keywords",
        "campaign.help_keywords",
        "campaign.opt_in_message",
        "campaign.opt_out_message",
        "campaign.help_message",
        "campaign.age_gated",
        "campaign.direct_lending",
        "campaign.subscriber_opt_in",
    ] {
        assert!(table.contains(key), "{key} not in the table");
        let field = keys
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in the JSON"));
        assert_eq!(field["a2p"], true, "{key}");
    }
    assert_eq!(keys["friendly_name"]["a2p"], false);
    assert_eq!(keys["campaign.message_samples"]["separator"], "|");
    assert_eq!(keys["campaign.opt_out_keywords"]["separator"], ",");
    assert_eq!(keys["campaign.description"]["required"], "A2P rows");
    let accepted = |key: &str| keys[key]["accepted"].as_array().unwrap().len();
    assert!(accepted("a2p.company_type") >= 4);
    assert!(accepted("a2p.stock_exchange") > 10);
    assert_eq!(accepted("brand.type"), 2);
    assert!(table.contains("LOW_VOLUME_STANDARD"), "{table}");
}

#[test]
fn profile_create_runs_the_journey_of_an_a2p_file() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("a2p-create");
    let file = dir.join("customer.toml");
    std::fs::write(
        &file,
        format!(
            r#"
friendly_name = "Zephyrwidget Holdings 9"
email = "compliance9@zephyr9.example.com"
primary_profile_sid = "{primary}"

[business_information]
business_name = "Zephyrwidget Holdings 9"
business_identity = "direct_customer"
business_type = "Limited Liability Corporation"
business_industry = "TECHNOLOGY"
business_registration_identifier = "EIN"
business_registration_number = "19-7300009"
business_regions_of_operation = ["USA_AND_CANADA"]
website_url = "https://zephyr9.example.com"

[representative_1]
first_name = "Quillon9"
last_name = "Marrowby9"
email = "quillon9@zephyr9.example.com"
phone_number = "+14157770009"
business_title = "Chief Executive Officer"
job_position = "CEO"

[representative_2]
first_name = "Tessaly9"
last_name = "Brackenfold9"
email = "tessaly9@zephyr9.example.com"
phone_number = "+14158880009"
business_title = "Chief Financial Officer"
job_position = "CFO"

[address]
customer_name = "Zephyrwidget Holdings 9"
street = "109 Quartzline Avenue"
city = "San Francisco"
region = "CA"
postal_code = "94105"
iso_country = "US"

[a2p]
company_type = "non-profit"

[brand]
type = "LOW_VOLUME_STANDARD"
mock = true

[messaging_service]
friendly_name = "Zephyrwidget 9 notifications"

[campaign]
use_case = "LOW_VOLUME"
description = "Appointment reminders and one-time codes for Zephyrwidget 9's members."
message_flow = "Members give their number on the sign-up form and tick a consent box."
message_samples = [
    "Zephyrwidget: your appointment is tomorrow at 10am, reply STOP to opt out.",
    "Zephyrwidget: your code is 923456, valid for 10 minutes.",
]
opt_out_keywords = ["STOP", "QUIT"]
opt_out_message = "You are unsubscribed from Zephyrwidget messages."
"#,
            primary = emulator.primary_profile()
        ),
    )
    .unwrap();
    let journal = dir.join("customer.journal");
    let output = emulator
        .command()
        .args(["--json", "profile", "create", "--file"])
        .arg(&file)
        .arg("--journal")
        .arg(&journal)
        .args([
            "--brand-wait",
            "20",
            "--campaign-wait",
            "20",
            "--poll",
            "0.02",
        ])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let done: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(done["result"], "registered", "{done}");
    assert_eq!(done["brand_status"], "APPROVED", "{done}");
    assert_eq!(done["campaign_status"], "VERIFIED", "{done}");
    assert!(done["campaign_sid"].as_str().unwrap().starts_with("QE"));
    let c = emulator.counters();
    assert_eq!((c.brand_registrations, c.campaigns), (1, 1), "{c:?}");

    // Again from the journal: the same journey, nothing created.
    let output = emulator
        .command()
        .args(["profile", "create", "--file"])
        .arg(&file)
        .arg("--journal")
        .arg(&journal)
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("resumed the A2P journey of BU"),
        "{stdout}"
    );
    assert!(stdout.contains("registered"), "{stdout}");
    let after = emulator.counters();
    assert_eq!(
        (
            after.brand_registrations,
            after.campaigns,
            after.customer_profiles
        ),
        (1, 1, 1),
        "{after:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lost_answers_register_each_brand_and_campaign_once() {
    const ROWS: u64 = 6;
    let emulator = TestEmulator::with_config(
        EmulatorConfig::default()
            .with_faults(
                trusthub_emulator::Faults::none()
                    .with_rate_commit_then_503(0.10)
                    .with_rate_commit_then_429(0.05)
                    .with_rate_commit_then_drop(0.05),
            )
            .with_brand_decision(Duration::from_millis(10), Decision::Approve)
            .with_campaign_decision(Duration::from_millis(10), Decision::Approve),
    );
    let dir = temp_dir("a2p-lost-answers");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let mut header = a2p_header();
    header.extend(["a2p.trust_product_name", "a2p.trust_product_email"]);
    // Every row's trust product and service share their names (and the trust products their
    // email): a lost create of one is looked up among the others' without taking theirs.
    let rows: Vec<Vec<String>> = (1..=ROWS)
        .map(|i| {
            let mut row = a2p_customer(i, &primary, &phone, None);
            row.extend(["Zephyrwidget A2P".into(), "a2p@zephyr.example.com".into()]);
            set_in(
                &header,
                &mut row,
                "messaging_service.friendly_name",
                "Zephyrwidget notifications",
            );
            row
        })
        .collect();
    let csv = dir.join("customers.csv");
    write_table(&csv, &header, &rows);
    let journal = dir.join("onboard.journal");
    let waits = [
        "--brand-wait",
        "20",
        "--campaign-wait",
        "20",
        "--poll",
        "0.02",
    ];
    let mut runs = 0;
    loop {
        runs += 1;
        let output = onboard(&emulator, &csv, &journal, &waits);
        if output.status.code() == Some(0) {
            break;
        }
        assert!(
            runs < 5,
            "not registered after {runs} runs: {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
    let c = emulator.counters();
    assert!(c.requests_faulted > 0, "{c:?}");
    assert_eq!(
        (
            c.trust_products,
            c.messaging_services,
            c.brand_registrations,
            c.campaigns
        ),
        (ROWS, ROWS, ROWS, ROWS),
        "one of each per row: {c:?}"
    );
    let (_, report) = read_report(&dir.join("onboard.report.csv"));
    let mut seen = std::collections::BTreeSet::new();
    for r in &report {
        assert_eq!(r["result"], "registered", "{r:?}");
        for column in [
            "trust_product_sid",
            "messaging_service_sid",
            "brand_sid",
            "campaign_sid",
        ] {
            assert!(seen.insert(r[column].clone()), "{column} twice: {r:?}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rows_onboarded_before_get_their_a2p_journey_added() {
    let emulator = TestEmulator::with_config(
        EmulatorConfig::default()
            .with_brand_decision(Duration::from_millis(10), Decision::Approve)
            .with_campaign_decision(Duration::from_millis(10), Decision::Approve),
    );
    let dir = temp_dir("a2p-added");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let header = a2p_header();
    let journal = dir.join("onboard.journal");
    // First the profiles alone (empty A2P cells), submitted.
    let profiles: Vec<Vec<String>> = (1..=2)
        .map(|i| {
            let mut row = customer(i, &primary, &phone);
            row.resize(header.len(), String::new());
            row
        })
        .collect();
    let csv = dir.join("profiles.csv");
    write_table(&csv, &header, &profiles);
    let output = onboard(&emulator, &csv, &journal, &["--submit"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let (_, first) = read_report(&dir.join("onboard.report.csv"));
    // Then the same customers with their A2P cells: the journey goes on from their journals.
    let rows: Vec<Vec<String>> = (1..=2)
        .map(|i| a2p_customer(i, &primary, &phone, None))
        .collect();
    let csv = dir.join("a2p.csv");
    write_table(&csv, &header, &rows);
    let output = onboard(
        &emulator,
        &csv,
        &journal,
        &[
            "--brand-wait",
            "20",
            "--campaign-wait",
            "20",
            "--poll",
            "0.02",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let (_, second) = read_report(&dir.join("onboard.report.csv"));
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(b["result"], "registered", "{b:?}");
        assert_eq!(b["run"], "resumed", "{b:?}");
        assert_eq!(a["bundle_sid"], b["bundle_sid"], "the same profile");
    }
    let c = emulator.counters();
    assert_eq!(
        (c.customer_profiles, c.brand_registrations, c.campaigns),
        (2, 2, 2),
        "{c:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
