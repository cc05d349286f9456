//! Shared by the command-line tests: an emulator running in this process (on its own runtime)
//! and the `trusthub` binary pointed at it through the library's environment variables.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use trusthub_emulator::{start, Counters, Emulator, EmulatorConfig, Faults};

/// An emulator on 127.0.0.1 (free port), stopped when dropped.
pub struct TestEmulator {
    emulator: Option<Emulator>,
    runtime: tokio::runtime::Runtime,
}

impl TestEmulator {
    /// Starts an emulator adding `latency` to every API request.
    pub fn start(latency: Duration) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let emulator = runtime
            .block_on(start(
                EmulatorConfig::default().with_faults(Faults::none().with_latency(latency)),
            ))
            .expect("the emulator starts");
        TestEmulator {
            emulator: Some(emulator),
            runtime,
        }
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().expect("running")
    }

    /// The seeded, approved primary profile.
    pub fn primary_profile(&self) -> String {
        self.emulator().primary_profile_sid().to_owned()
    }

    /// The first seeded phone number.
    pub fn phone_number(&self) -> String {
        self.emulator().phone_number_sids()[0].clone()
    }

    /// What the emulator created and served so far.
    pub fn counters(&self) -> Counters {
        self.emulator().counters()
    }

    /// The `trusthub` binary with the emulator's credentials in its environment (and no other
    /// Twilio setting from the outer environment).
    pub fn command(&self) -> Command {
        let e = self.emulator();
        let mut cmd = Command::cargo_bin("trusthub").expect("the trusthub binary is built");
        for name in [
            "TWILIO_API_KEY",
            "TWILIO_API_SECRET",
            "TWILIO_EDGE",
            "TWILIO_REGION",
        ] {
            cmd.env_remove(name);
        }
        cmd.env("TWILIO_ACCOUNT_SID", e.account_sid())
            .env("TWILIO_AUTH_TOKEN", e.auth_token())
            .env("TWILIO_BASE_URL", e.base_url());
        cmd
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        drop(self.emulator.take());
    }
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trusthub-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Resources one good row creates (one phone number each), as (counter, count).
pub fn per_row(rows: u64) -> Vec<(&'static str, u64)> {
    vec![
        ("customer_profiles", rows),
        ("end_users", 3 * rows),
        ("addresses", rows),
        ("supporting_documents", rows),
        ("entity_assignments", 5 * rows),
        ("channel_endpoint_assignments", rows),
        ("evaluations", rows),
    ]
}

/// The same counters, read from the emulator.
pub fn created(c: &Counters) -> Vec<(&'static str, u64)> {
    vec![
        ("customer_profiles", c.customer_profiles),
        ("end_users", c.end_users),
        ("addresses", c.addresses),
        ("supporting_documents", c.supporting_documents),
        ("entity_assignments", c.entity_assignments),
        (
            "channel_endpoint_assignments",
            c.channel_endpoint_assignments,
        ),
        ("evaluations", c.evaluations),
    ]
}

/// The CSV columns the generated customers fill.
pub const COLUMNS: [&str; 30] = [
    "friendly_name",
    "email",
    "primary_profile_sid",
    "phone_number_sids",
    "business_information.business_name",
    "business_information.business_identity",
    "business_information.business_type",
    "business_information.business_industry",
    "business_information.business_registration_identifier",
    "business_information.business_registration_number",
    "business_information.business_regions_of_operation",
    "business_information.website_url",
    "representative_1.first_name",
    "representative_1.last_name",
    "representative_1.email",
    "representative_1.phone_number",
    "representative_1.business_title",
    "representative_1.job_position",
    "representative_2.first_name",
    "representative_2.last_name",
    "representative_2.email",
    "representative_2.phone_number",
    "representative_2.business_title",
    "representative_2.job_position",
    "address.customer_name",
    "address.street",
    "address.city",
    "address.region",
    "address.postal_code",
    "address.iso_country",
];

/// Customer `i` (1-based row number): distinctive personal data, valid everywhere.
pub fn customer(i: u64, primary: &str, phone: &str) -> Vec<String> {
    let name = format!("Zephyrwidget Holdings {i}");
    vec![
        name.clone(),
        format!("compliance{i}@zephyr{i}.example.com"),
        primary.to_owned(),
        phone.to_owned(),
        name.clone(),
        "direct_customer".into(),
        "Limited Liability Corporation".into(),
        "TECHNOLOGY".into(),
        "EIN".into(),
        format!("{:02}-{:07}", 10 + i % 80, 7_300_000 + i),
        "USA_AND_CANADA".into(),
        format!("https://zephyr{i}.example.com"),
        format!("Quillon{i}"),
        format!("Marrowby{i}"),
        format!("quillon{i}@zephyr{i}.example.com"),
        format!("+1415777{i:04}"),
        "Chief Executive Officer".into(),
        "CEO".into(),
        format!("Tessaly{i}"),
        format!("Brackenfold{i}"),
        format!("tessaly{i}@zephyr{i}.example.com"),
        format!("+1415888{i:04}"),
        "Chief Financial Officer".into(),
        "CFO".into(),
        name,
        format!("{} Quartzline Avenue", 100 + i),
        "San Francisco".into(),
        "CA".into(),
        "94105".into(),
        "US".into(),
    ]
}

/// The personal data of customer `i`, which must never appear in any output.
pub fn pii(i: u64) -> Vec<String> {
    let row = customer(i, "", "");
    [0usize, 1, 9, 12, 13, 14, 15, 18, 19, 20, 21, 25]
        .iter()
        .map(|&k| row[k].clone())
        .collect()
}

/// Sets column `key` of a generated row.
pub fn set(row: &mut [String], key: &str, value: &str) {
    let k = COLUMNS
        .iter()
        .position(|c| *c == key)
        .expect("a known column");
    row[k] = value.to_owned();
}

/// Writes `rows` under the header [`COLUMNS`].
pub fn write_csv(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).expect("csv file");
    w.write_record(COLUMNS).expect("header");
    for row in rows {
        w.write_record(row).expect("row");
    }
    w.flush().expect("flush");
}

/// Reads a report CSV: its header and rows as maps.
pub fn read_report(path: &Path) -> (Vec<String>, Vec<std::collections::HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).expect("report csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("record");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}
