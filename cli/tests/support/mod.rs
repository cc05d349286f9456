//! Shared by the command-line tests: an emulator running in this process (on its own runtime)
//! and the `trusthub` binary pointed at it through the library's environment variables.

#![allow(dead_code)]

// The throwaway PostgreSQL cluster of trusthub-postgres's own tests, shared rather than copied.
#[path = "../../../postgres/tests/support/mod.rs"]
pub mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use trusthub_emulator::{start, Counters, Decision, Emulator, EmulatorConfig, Faults};

/// An emulator on 127.0.0.1 (free port), stopped when dropped.
pub struct TestEmulator {
    emulator: Option<Emulator>,
    runtime: tokio::runtime::Runtime,
}

impl TestEmulator {
    /// Starts an emulator adding `latency` to every API request.
    pub fn start(latency: Duration) -> Self {
        Self::with_faults(Faults::none().with_latency(latency))
    }

    /// Starts an emulator with these faults.
    pub fn with_faults(faults: Faults) -> Self {
        Self::with_config(EmulatorConfig::default().with_faults(faults))
    }

    /// Starts an emulator configured so.
    pub fn with_config(config: EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let emulator = runtime
            .block_on(start(config))
            .expect("the emulator starts");
        TestEmulator {
            emulator: Some(emulator),
            runtime,
        }
    }

    /// Ends the review of an `in-review` customer profile or trust product.
    pub fn decide(&self, bundle: &str, decision: Decision) {
        self.runtime
            .block_on(self.emulator().decide(bundle, decision))
            .expect("the bundle is in review");
    }

    /// Ends the review of a `PENDING` brand registration.
    pub fn decide_brand(&self, brand: &str, decision: Decision) {
        self.runtime
            .block_on(self.emulator().decide_brand(brand, decision))
            .expect("the brand is pending");
    }

    /// Ends the review of an `IN_PROGRESS` campaign.
    pub fn decide_campaign(&self, campaign: &str, decision: Decision) {
        self.runtime
            .block_on(self.emulator().decide_campaign(campaign, decision))
            .expect("the campaign is in progress");
    }

    /// Every seeded phone number.
    pub fn phone_numbers(&self) -> Vec<String> {
        self.emulator().phone_number_sids()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        self.emulator().set_faults(faults);
    }

    /// Every resource in the emulator's account, listed over its API (what a user would see),
    /// the seeded primary profile and its end user excluded.
    pub fn inventory(&self) -> Inventory {
        let e = self.emulator();
        let client = trusthub::Client::builder()
            .account_sid(e.account_sid().parse().unwrap())
            .auth_token(e.auth_token())
            .base_url(e.base_url())
            .build()
            .unwrap();
        let primary = e.primary_profile_sid().to_owned();
        self.runtime.block_on(async move {
            use futures_util::TryStreamExt;
            let seeded_users: Vec<String> = client
                .customer_profiles()
                .entity_assignments(primary.as_str())
                .list()
                .into_stream()
                .map_ok(|a| text(a.object_sid))
                .try_collect()
                .await
                .unwrap();
            let mut inventory = Inventory::default();
            let bundles: Vec<_> = client
                .customer_profiles()
                .list()
                .page_size(1000)
                .into_stream()
                .try_collect()
                .await
                .unwrap();
            for b in bundles {
                let sid = text(b.sid);
                if sid == primary {
                    continue;
                }
                let entities: Vec<(String, String)> = client
                    .customer_profiles()
                    .entity_assignments(sid.as_str())
                    .list()
                    .page_size(1000)
                    .into_stream()
                    .map_ok(|a| (text(a.sid), text(a.object_sid)))
                    .try_collect()
                    .await
                    .unwrap();
                let channels: Vec<(String, String)> = client
                    .customer_profiles()
                    .channel_endpoint_assignments(sid.as_str())
                    .list()
                    .into_stream()
                    .map_ok(|a| (text(a.sid), text(a.channel_endpoint_sid)))
                    .try_collect()
                    .await
                    .unwrap();
                let evaluations: Vec<String> = client
                    .customer_profiles()
                    .evaluations(sid.as_str())
                    .list()
                    .into_stream()
                    .map_ok(|e| text(e.sid))
                    .try_collect()
                    .await
                    .unwrap();
                inventory.bundles.push(Bundle {
                    sid,
                    friendly_name: b.friendly_name.unwrap_or_default(),
                    status: b.status.map(|s| s.to_string()).unwrap_or_default(),
                    entities,
                    channels,
                    evaluations,
                });
            }
            inventory.end_users = client
                .end_users()
                .list()
                .page_size(1000)
                .into_stream()
                .map_ok(|u| text(u.sid))
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .into_iter()
                .filter(|sid| !seeded_users.contains(sid))
                .collect();
            inventory.documents = client
                .supporting_documents()
                .list()
                .page_size(1000)
                .into_stream()
                .map_ok(|d| text(d.sid))
                .try_collect()
                .await
                .unwrap();
            inventory.addresses = client
                .addresses()
                .list()
                .page_size(1000)
                .into_stream()
                .map_ok(|a| text(a.sid))
                .try_collect()
                .await
                .unwrap();
            inventory
        })
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
        let mut cmd = Command::cargo_bin("trusthub").expect("the trusthub binary is built");
        self.environment(&mut cmd);
        cmd
    }

    /// Points `cmd` at the emulator through the library's environment variables (and removes
    /// any other Twilio setting of the outer environment: its twilio-cli profiles, its
    /// RUST_LOG and its proxies too).
    pub fn environment(&self, cmd: &mut Command) {
        let e = self.emulator();
        for name in [
            "TWILIO_API_KEY",
            "TWILIO_API_SECRET",
            "TWILIO_EDGE",
            "TWILIO_REGION",
            "TWILIO_PROFILE",
            "RUST_LOG",
            "TRUSTHUB_NO_ENV_PROXY",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            cmd.env_remove(name);
        }
        cmd.env("TWILIO_ACCOUNT_SID", e.account_sid())
            .env("TWILIO_AUTH_TOKEN", e.auth_token())
            .env("TWILIO_BASE_URL", e.base_url())
            // No twilio-cli config of the machine's user: a directory that does not exist.
            .env(
                "TWILIO_CONFIG_DIR",
                std::env::temp_dir().join("trusthub-cli-tests-no-twilio-cli-config"),
            );
    }

    /// The emulator's account SID.
    pub fn account_sid(&self) -> String {
        self.emulator().account_sid().to_owned()
    }

    /// The emulator's base URL.
    pub fn base_url(&self) -> String {
        self.emulator().base_url()
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        drop(self.emulator.take());
    }
}

/// One customer profile as listed, with what is assigned to it.
#[derive(Debug, Default, Clone)]
pub struct Bundle {
    pub sid: String,
    pub friendly_name: String,
    pub status: String,
    /// (assignment SID, object SID).
    pub entities: Vec<(String, String)>,
    /// (assignment SID, phone number SID).
    pub channels: Vec<(String, String)>,
    pub evaluations: Vec<String>,
}

/// Every resource of the account, listed.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    pub bundles: Vec<Bundle>,
    pub end_users: Vec<String>,
    pub documents: Vec<String>,
    pub addresses: Vec<String>,
}

impl Inventory {
    /// Asserts exactly one bundle per name in `names`, each with its 3 end users, document,
    /// primary profile and one phone number assigned and one evaluation of the flow's, and
    /// nothing else anywhere: no resource that no journal names (`owned`: every SID the
    /// journals hold, by customer) and no resource two customers hold. (The emulator may
    /// evaluate a bundle again when it is submitted: that evaluation is Twilio's, not the flow's.)
    pub fn assert_exactly_one_each(&self, names: &[String], owned: &[Vec<String>]) {
        let mut by_name: std::collections::HashMap<&str, usize> = Default::default();
        for b in &self.bundles {
            *by_name.entry(b.friendly_name.as_str()).or_default() += 1;
        }
        for name in names {
            assert_eq!(
                by_name.get(name.as_str()),
                Some(&1),
                "bundles named {name:?}"
            );
        }
        assert_eq!(self.bundles.len(), names.len(), "bundles");
        let n = names.len();
        assert_eq!(self.end_users.len(), 3 * n, "end users");
        assert_eq!(self.documents.len(), n, "documents");
        assert_eq!(self.addresses.len(), n, "addresses");
        for b in &self.bundles {
            assert_eq!(b.entities.len(), 5, "entity assignments of {}", b.sid);
            assert_eq!(b.channels.len(), 1, "channel assignments of {}", b.sid);
            // The emulator evaluates again at submission when the bundle changed since.
            let submissions = usize::from(b.status != "draft");
            assert!(
                (1..=1 + submissions).contains(&b.evaluations.len()),
                "{} evaluations of {} ({})",
                b.evaluations.len(),
                b.sid,
                b.status
            );
        }
        let mut owner: std::collections::HashMap<&str, usize> = Default::default();
        for (i, sids) in owned.iter().enumerate() {
            for sid in sids {
                if let Some(other) = owner.insert(sid.as_str(), i) {
                    assert_eq!(other, i, "{sid} is held by two customers");
                }
            }
        }
        let listed = self
            .bundles
            .iter()
            .flat_map(|b| {
                std::iter::once(&b.sid)
                    .chain(b.entities.iter().map(|(s, _)| s))
                    .chain(b.channels.iter().map(|(s, _)| s))
            })
            .chain(&self.end_users)
            .chain(&self.documents)
            .chain(&self.addresses);
        for sid in listed {
            assert!(
                owner.contains_key(sid.as_str()),
                "orphan: {sid} is in no journal"
            );
        }
        // The flow's evaluation of each bundle is one the journal names.
        for b in &self.bundles {
            assert_eq!(
                b.evaluations
                    .iter()
                    .filter(|e| owner.contains_key(e.as_str()))
                    .count(),
                1,
                "the journal names one evaluation of {}",
                b.sid
            );
        }
    }
}

/// Replays a batch journal (header, full lines, merge patches) to each customer's latest
/// journal, as JSON. A torn last line is ignored, as the command ignores it.
pub fn journal_customers(path: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    fn apply(target: &mut serde_json::Value, patch: &serde_json::Value) {
        let Some(fields) = patch.as_object() else {
            *target = patch.clone();
            return;
        };
        if !target.is_object() {
            *target = serde_json::json!({});
        }
        let object = target.as_object_mut().unwrap();
        for (k, v) in fields {
            if v.is_null() {
                object.remove(k);
            } else {
                apply(
                    object.entry(k.clone()).or_insert(serde_json::Value::Null),
                    v,
                );
            }
        }
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut customers = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        let Ok(line) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let key = line["key"].as_str().unwrap().to_owned();
        if let Some(journal) = line.get("journal") {
            customers.insert(key, journal.clone());
        } else {
            apply(customers.get_mut(&key).unwrap(), &line["patch"]);
        }
    }
    customers
}

/// Every SID a customer's journal (as JSON) holds.
pub fn owned_sids(journal: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["bundle", "address", "document", "evaluation"] {
        if let Some(sid) = journal[key].as_str() {
            out.push(sid.to_owned());
        }
    }
    for key in [
        "end_users",
        "entity_assignments",
        "channel_endpoint_assignments",
    ] {
        if let Some(map) = journal[key].as_object() {
            out.extend(map.values().filter_map(|v| v.as_str().map(str::to_owned)));
        }
    }
    out
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
    write_table(path, &COLUMNS, rows);
}

/// Writes `rows` under `header`.
pub fn write_table(path: &Path, header: &[&str], rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).expect("csv file");
    w.write_record(header).expect("header");
    for row in rows {
        w.write_record(row).expect("row");
    }
    w.flush().expect("flush");
}

/// The A2P columns the generated A2P customers fill, after [`COLUMNS`].
pub const A2P_COLUMNS: [&str; 8] = [
    "a2p.company_type",
    "brand.type",
    "messaging_service.friendly_name",
    "messaging_service.phone_number_sids",
    "campaign.use_case",
    "campaign.description",
    "campaign.message_flow",
    "campaign.message_samples",
];

/// [`COLUMNS`] then [`A2P_COLUMNS`].
pub fn a2p_header() -> Vec<&'static str> {
    COLUMNS.iter().chain(A2P_COLUMNS.iter()).copied().collect()
}

/// A2P customer `i`: [`customer`] and its A2P cells (a private company, a standard brand, a new
/// service holding `service_number` when given, a 2FA campaign whose samples hold commas). A
/// row of [`COLUMNS`] alone gets empty A2P cells: a profile-only row.
pub fn a2p_customer(
    i: u64,
    primary: &str,
    phone: &str,
    service_number: Option<&str>,
) -> Vec<String> {
    let mut row = customer(i, primary, phone);
    row.extend([
        "private".to_owned(),
        "STANDARD".to_owned(),
        format!("Zephyrwidget {i} notifications"),
        service_number.unwrap_or_default().to_owned(),
        "2FA".to_owned(),
        format!("One-time passcodes for Zephyrwidget {i}'s customers when they sign in."),
        format!("Customers give their number at signup on zephyr{i}.example.com and tick a box."),
        format!(
            "Zephyrwidget: your code is {i}23456, valid for 10 minutes.|Zephyrwidget: {i}54321 \
             is your sign-in code, reply STOP to opt out."
        ),
    ]);
    row
}

/// Sets column `key` of a row written under `header`.
pub fn set_in(header: &[&str], row: &mut [String], key: &str, value: &str) {
    let k = header
        .iter()
        .position(|c| *c == key)
        .expect("a known column");
    row[k] = value.to_owned();
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

/// A SID field of an answer as text (`""` when absent).
fn text<S: ToString>(sid: Option<S>) -> String {
    sid.map(|s| s.to_string()).unwrap_or_default()
}

/// The batch report's columns, in their documented order (README.md: the report's columns).
pub const REPORT_COLUMNS: [&str; 19] = [
    "row",
    "result",
    "bundle_sid",
    "evaluation_status",
    "submitted_status",
    "run",
    "failures",
    "trust_product_sid",
    "messaging_service_sid",
    "brand_sid",
    "brand_status",
    "campaign_sid",
    "campaign_status",
    "trust_product_status",
    "shaken_stir_sid",
    "shaken_stir_status",
    "cnam_sid",
    "cnam_status",
    "updated",
];
