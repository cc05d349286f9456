//! `trusthub onboard` with voice columns (SHAKEN/STIR, CNAM): rows that get their trust products
//! once each (and again from the journal, nothing created), a row with A2P columns too (the
//! journey, then the voice products, on one journal), bad voice values refused by column without
//! their values, `--refresh` once Twilio approved, the keys in `trusthub schema`, and a batch run
//! with `--emulator`.

use crate::support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use support::{
    a2p_customer, a2p_header, customer, pii, read_report, set_in, temp_dir, write_table,
    TestEmulator,
};
use trusthub_emulator::{Decision, EmulatorConfig};

/// The voice columns, after [`a2p_header`].
const VOICE_COLUMNS: [&str; 2] = ["voice.shaken_stir", "voice.cnam_display_name"];

fn header() -> Vec<&'static str> {
    a2p_header()
        .into_iter()
        .chain(VOICE_COLUMNS.iter().copied())
        .collect()
}

/// Customer `i` with empty A2P cells and these voice cells.
fn voice_customer(i: u64, primary: &str, phone: &str, shaken: &str, cnam: &str) -> Vec<String> {
    let mut row = customer(i, primary, phone);
    row.resize(a2p_header().len(), String::new());
    row.extend([shaken.to_owned(), cnam.to_owned()]);
    row
}

/// The CNAM name of row `i`: the business's name on its calls (personal data of a kind).
fn cnam(i: u64) -> String {
    format!("Zephyrwidget {i}")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

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

fn assert_private(rows: u64, texts: &[(&str, &str)]) {
    for i in 1..=rows {
        let mut values = pii(i);
        values.push(cnam(i));
        for value in values {
            for (what, text) in texts {
                assert!(
                    !text.contains(&value),
                    "row {i}'s data {value:?} appears in {what}"
                );
            }
        }
    }
}

#[test]
fn voice_rows_get_shaken_stir_and_cnam_once_each_and_bad_values_are_refused_by_column() {
    let emulator = TestEmulator::with_config(
        EmulatorConfig::default()
            .with_auto_decision(Duration::from_millis(10), Decision::Approve)
            .with_brand_decision(Duration::from_millis(10), Decision::Approve)
            .with_campaign_decision(Duration::from_millis(10), Decision::Approve),
    );
    let dir = temp_dir("voice-rows");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let numbers = emulator.phone_numbers();
    let header = header();
    let mut rows = vec![
        // 1: both products; 2: SHAKEN/STIR alone; 3: CNAM alone.
        voice_customer(1, &primary, &phone, "true", &cnam(1)),
        voice_customer(2, &primary, &phone, "true", ""),
        voice_customer(3, &primary, &phone, "", &cnam(3)),
        // 4: a CNAM name too long and starting with a digit; 5: CNAM for a VAT-registered
        // business; 6: a lone `false` is a profile-only row.
        voice_customer(4, &primary, &phone, "true", "1-800 Quorvane Widgets"),
        voice_customer(5, &primary, &phone, "", &cnam(5)),
        voice_customer(6, &primary, &phone, "false", ""),
    ];
    set_in(
        &header,
        &mut rows[4],
        "business_information.business_registration_identifier",
        "VAT",
    );
    // 7: the A2P journey and both voice products, on one journal.
    let mut both = a2p_customer(7, &primary, &phone, Some(&numbers[1]));
    both.extend(["true".to_owned(), cnam(7)]);
    rows.push(both);
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
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("7 rows: 4 compliant, 1 registered, 2 invalid"),
        "{stdout}"
    );
    assert!(stdout.contains("voice rows:"), "{stdout}");
    let (columns, report) = read_report(&dir.join("onboard.report.csv"));
    for column in [
        "shaken_stir_sid",
        "shaken_stir_status",
        "cnam_sid",
        "cnam_status",
    ] {
        assert!(columns.iter().any(|c| c == column), "{columns:?}");
    }
    let row = |n: usize| &report[n - 1];
    let asked = [
        (1, true, true),
        (2, true, false),
        (3, false, true),
        (7, true, true),
    ];
    for (n, shaken, cnam) in asked {
        let r = row(n);
        let expected = if n == 7 { "registered" } else { "compliant" };
        assert_eq!(r["result"], expected, "{r:?}");
        assert_eq!(r["run"], "new", "{r:?}");
        assert_eq!(r["failures"], "", "{r:?}");
        for (asked, sid, status) in [
            (shaken, "shaken_stir_sid", "shaken_stir_status"),
            (cnam, "cnam_sid", "cnam_status"),
        ] {
            if asked {
                assert!(r[sid].starts_with("BU"), "{sid}: {r:?}");
                assert_eq!(r[status], "pending-review", "{status}: {r:?}");
            } else {
                assert_eq!(r[sid], "", "{r:?}");
            }
        }
    }
    assert_eq!(row(7)["campaign_status"], "VERIFIED");
    assert!(row(7)["trust_product_sid"].starts_with("BU"));
    let failures = |n: usize| row(n)["failures"].clone();
    assert_eq!(row(4)["result"], "invalid");
    assert!(
        failures(4).starts_with(
            "voice.cnam_display_name: expected at most 15 characters, a letter first, then \
             letters, digits, '.', ',' and spaces; found 22 characters, starting with a digit, \
             with other symbols"
        ),
        "{}",
        failures(4)
    );
    assert_eq!(row(5)["result"], "invalid");
    assert!(
        failures(5).starts_with(
            "voice.cnam_display_name: expected nothing unless \
             business_information.business_registration_identifier is EIN or DUNS"
        ),
        "{}",
        failures(5)
    );
    assert_eq!(row(6)["result"], "compliant");
    assert_eq!(row(6)["shaken_stir_sid"], "");

    // One trust product per product asked, CNAM's end user once each; row 6 none.
    let c = emulator.counters();
    assert_eq!(c.customer_profiles, 5, "{c:?}");
    assert_eq!(c.trust_products, 2 + 1 + 1 + 3, "{c:?}");
    assert_eq!(c.end_users, 5 * 3 + 3 + 1, "{c:?}");
    assert_eq!((c.brand_registrations, c.campaigns), (1, 1), "{c:?}");
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    let report_json = std::fs::read_to_string(dir.join("onboard.report.json")).unwrap();
    for (what, text) in [("stdout", &stdout), ("the report", &report_json)] {
        assert!(!text.contains("Quorvane"), "a CNAM name leaked in {what}");
    }
    assert_private(
        7,
        &[
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("the journal", &journal_text),
            ("the JSON report", &report_json),
        ],
    );

    // Again: the finished rows are reported from the journal, nothing is created.
    let before = emulator.counters();
    let output = onboard(&emulator, &csv, &journal, &["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let again: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for n in [1, 2, 3, 6, 7] {
        assert_eq!(again["rows"][n - 1]["run"], "earlier", "{again}");
    }
    assert_eq!(again["rows"][0]["voice"], true);
    assert_eq!(
        again["rows"][0]["cnam_sid"].as_str(),
        Some(row(1)["cnam_sid"].as_str())
    );
    let after = emulator.counters();
    assert_eq!(
        (
            after.customer_profiles,
            after.trust_products,
            after.end_users,
            after.channel_endpoint_assignments,
            after.campaigns
        ),
        (
            before.customer_profiles,
            before.trust_products,
            before.end_users,
            before.channel_endpoint_assignments,
            before.campaigns
        )
    );

    // Twilio approves the profiles and the trust products: the refresh says so.
    std::thread::sleep(Duration::from_millis(50));
    let output = onboard(&emulator, &csv, &journal, &["--refresh"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "the invalid rows: {stdout}");
    assert!(stdout.contains("statuses changed:"), "{stdout}");
    let (_, refreshed) = read_report(&dir.join("onboard.report.csv"));
    let r: HashMap<String, String> = refreshed[0].clone();
    assert_eq!(r["result"], "approved", "{r:?}");
    assert_eq!(r["run"], "refreshed", "{r:?}");
    assert_eq!(r["submitted_status"], "twilio-approved", "{r:?}");
    assert_eq!(r["shaken_stir_status"], "twilio-approved", "{r:?}");
    assert_eq!(r["cnam_status"], "twilio-approved", "{r:?}");
    assert_eq!(refreshed[6]["result"], "registered", "{:?}", refreshed[6]);
    assert_eq!(refreshed[6]["trust_product_status"], "twilio-approved");
    assert_eq!(refreshed[5]["result"], "compliant", "not submitted");
    assert_eq!(emulator.counters().trust_products, after.trust_products);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn schema_lists_the_voice_keys() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let output = emulator
        .command()
        .args(["schema", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let voice: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["voice"] == true)
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        voice,
        [
            "voice.shaken_stir",
            "voice.cnam_display_name",
            "voice.shaken_stir_name",
            "voice.cnam_name",
            "voice.trust_product_email"
        ]
    );
}

#[test]
fn a_voice_batch_runs_against_the_embedded_emulator() {
    // The embedded emulator seeds what a default one seeds: the same phone numbers.
    let seeded = TestEmulator::start(Duration::ZERO);
    let phone = seeded.phone_number();
    let dir = temp_dir("voice-embedded");
    let mut row = voice_customer(1, "", &phone, "true", &cnam(1));
    // Without a primary profile the emulator's approved one is used.
    set_in(&header(), &mut row, "primary_profile_sid", "");
    let csv = dir.join("customers.csv");
    write_table(&csv, &header(), &[row]);
    let output = seeded
        .command()
        .args(["--emulator", "--json", "onboard"])
        .arg(&csv)
        .arg("--journal")
        .arg(dir.join("onboard.journal"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("embedded Trust Hub emulator"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let r = &report["rows"][0];
    assert_eq!(r["result"], "compliant", "{r}");
    assert_eq!(r["shaken_stir_status"], "pending-review", "{r}");
    assert_eq!(r["cnam_status"], "pending-review", "{r}");
    assert_eq!(seeded.counters().customer_profiles, 0, "not this emulator");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rows_onboarded_before_get_their_voice_products_added() {
    let emulator = TestEmulator::with_config(EmulatorConfig::default());
    let dir = temp_dir("voice-added");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let journal = dir.join("onboard.journal");
    // First the profiles alone, submitted.
    let profiles: Vec<Vec<String>> = (1..=2)
        .map(|i| voice_customer(i, &primary, &phone, "", ""))
        .collect();
    let csv = dir.join("profiles.csv");
    write_table(&csv, &header(), &profiles);
    let output = onboard(&emulator, &csv, &journal, &["--submit"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let (_, first) = read_report(&dir.join("onboard.report.csv"));
    // Then the same customers with their voice cells: the products go on from their journals.
    let rows: Vec<Vec<String>> = (1..=2)
        .map(|i| voice_customer(i, &primary, &phone, "true", &cnam(i)))
        .collect();
    let csv = dir.join("voice.csv");
    write_table(&csv, &header(), &rows);
    let output = onboard(&emulator, &csv, &journal, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let (_, second) = read_report(&dir.join("onboard.report.csv"));
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(b["result"], "compliant", "{b:?}");
        assert_eq!(b["run"], "resumed", "{b:?}");
        assert_eq!(a["bundle_sid"], b["bundle_sid"], "the same profile");
        assert_eq!(b["submitted_status"], "in-review", "{b:?}");
        assert_eq!(b["cnam_status"], "pending-review", "{b:?}");
    }
    let c = emulator.counters();
    assert_eq!((c.customer_profiles, c.trust_products), (2, 4), "{c:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_create_leaves_the_voice_products_to_onboard() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("voice-create");
    let row = voice_customer(
        1,
        &emulator.primary_profile(),
        &emulator.phone_number(),
        "true",
        "",
    );
    // The row as a JSON document: `section.key` columns become tables.
    let mut doc = serde_json::Map::new();
    for (key, value) in header().iter().zip(&row) {
        if value.is_empty() {
            continue;
        }
        match key.split_once('.') {
            Some((section, name)) => {
                doc.entry(section)
                    .or_insert_with(|| serde_json::json!({}))
                    .as_object_mut()
                    .unwrap()
                    .insert(name.to_owned(), value.clone().into());
            }
            None => {
                doc.insert((*key).to_owned(), value.clone().into());
            }
        }
    }
    let file = dir.join("customer.json");
    std::fs::write(&file, serde_json::Value::Object(doc).to_string()).unwrap();
    let output = emulator
        .command()
        .args(["profile", "create", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("trusthub onboard"), "{stderr}");
    assert_eq!(emulator.counters().requests_served, 0, "nothing was sent");
    std::fs::remove_dir_all(&dir).unwrap();
}
