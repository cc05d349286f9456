//! The API surface over HTTP: every error class, both list envelopes and their pagination, filters,
//! resource shapes, and deterministic SIDs.

use crate::common;

use common::{Api, Reply};
use reqwest::Method;
use serde_json::Value;
use trusthub_emulator::{policies, start, EmulatorConfig};

/// A POST path, its form, and the parameter its error must name.
type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

fn assert_error(reply: &Reply, status: u16, code: u64) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.code(), code, "{}", reply.json);
    assert_eq!(reply.json["status"], status);
    assert_eq!(
        reply.json["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
}

#[tokio::test]
async fn credentials_are_checked() {
    let emulator = start(
        EmulatorConfig::default().with_api_key("SK00000000000000000000000000000001", "key-secret"),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let url = format!("{}/v1/Policies", emulator.base_url());

    let anonymous = api.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let body: Value = serde_json::from_slice(&anonymous.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], 20003);

    let wrong = api
        .http
        .get(&url)
        .basic_auth(emulator.account_sid(), Some("not-the-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let text = wrong.text().await.unwrap();
    assert!(!text.contains("not-the-token"), "{text}");

    let key = api
        .http
        .get(&url)
        .basic_auth("SK00000000000000000000000000000001", Some("key-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 200);

    // Unknown paths also need credentials; with them they are 404.
    let unknown = api.http.get(format!("{}/v1/Nope", emulator.base_url()));
    assert_eq!(unknown.send().await.unwrap().status(), 401);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_resources_and_accounts_are_404() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    assert_error(&api.get("/v1/Nope").await, 404, 20404);
    let unknown = api
        .get("/v1/CustomerProfiles/BU00000000000000000000000000000000")
        .await;
    assert_error(&unknown, 404, 20404);
    assert!(unknown
        .message()
        .contains("BU00000000000000000000000000000000"));
    assert_error(&api.get("/v1/CustomerProfiles/not-a-sid").await, 404, 20404);
    assert_error(
        &api.get("/v1/EndUsers/IT00000000000000000000000000000000")
            .await,
        404,
        20404,
    );
    // The primary profile is a CustomerProfile, not a TrustProduct.
    let primary = emulator.primary_profile_sid().to_owned();
    assert_error(
        &api.get(&format!("/v1/TrustProducts/{primary}")).await,
        404,
        20404,
    );
    // Another account's SID in a 2010 path.
    let other = "/2010-04-01/Accounts/AC99999999999999999999999999999999/Addresses.json";
    assert_error(&api.get(other).await, 404, 20404);
    assert_error(
        &api.get(&api.account_path("/Addresses/AD00000000000000000000000000000000.json"))
            .await,
        404,
        20404,
    );
    let number = &emulator.phone_number_sids()[0];
    assert_error(
        &api.get(&api.account_path(&format!("/IncomingPhoneNumbers/{number}")))
            .await,
        404,
        20404,
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn wrong_methods_are_405() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    assert_error(&api.delete("/v1/Policies").await, 405, 20004);
    assert_error(
        &api.request(Method::PUT, "/v1/CustomerProfiles").await,
        405,
        20004,
    );
    assert_error(&api.post("/v1/EndUserTypes", &[]).await, 405, 20004);
    let number = &emulator.phone_number_sids()[0];
    assert_error(
        &api.delete(&api.account_path(&format!("/IncomingPhoneNumbers/{number}.json")))
            .await,
        405,
        20004,
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let secondary = policies::SECONDARY_CUSTOMER_PROFILE;

    let missing = api
        .post(
            "/v1/CustomerProfiles",
            &[("Email", "a@b.example"), ("PolicySid", secondary)],
        )
        .await;
    assert_error(&missing, 400, 20001);
    assert_eq!(
        missing.message(),
        "Missing required parameter FriendlyName in the post body"
    );
    let blank = api
        .post(
            "/v1/CustomerProfiles",
            &[
                ("FriendlyName", "x"),
                ("Email", "  "),
                ("PolicySid", secondary),
            ],
        )
        .await;
    assert_eq!(
        blank.message(),
        "Missing required parameter Email in the post body"
    );

    // (path, form, the parameter the error must name)
    let cases: Vec<Case> = vec![
        (
            "/v1/CustomerProfiles",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e"),
                ("PolicySid", "RN123"),
            ],
            "PolicySid",
        ),
        (
            "/v1/CustomerProfiles",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e"),
                ("PolicySid", "RN00000000000000000000000000000000"),
            ],
            "PolicySid",
        ),
        (
            "/v1/CustomerProfiles",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e"),
                ("PolicySid", secondary),
                ("StatusCallback", "not a url"),
            ],
            "StatusCallback",
        ),
        (
            "/v1/TrustProducts",
            vec![
                ("FriendlyName", "x"),
                ("Email", "e"),
                ("PolicySid", secondary),
            ],
            "PolicySid",
        ),
        (
            "/v1/EndUsers",
            vec![("FriendlyName", "x"), ("Type", "individual")],
            "Type",
        ),
        (
            "/v1/EndUsers",
            vec![
                ("FriendlyName", "x"),
                ("Type", "authorized_representative_1"),
                ("Attributes", "{\"first_name\": \"John Smith\""),
            ],
            "Attributes",
        ),
        (
            "/v1/EndUsers",
            vec![
                ("FriendlyName", "x"),
                ("Type", "authorized_representative_1"),
                ("Attributes", "[\"John Smith\"]"),
            ],
            "Attributes",
        ),
        (
            "/v1/SupportingDocuments",
            vec![("FriendlyName", "x"), ("Type", "passport")],
            "Type",
        ),
    ];
    for (path, form, parameter) in cases {
        let reply = api.post(path, &form).await;
        assert_error(&reply, 400, 20001);
        assert!(
            reply
                .message()
                .starts_with(&format!("Invalid parameter {parameter}:")),
            "{path} {form:?}: {}",
            reply.message()
        );
        assert!(
            !reply.message().contains("John"),
            "PII echoed: {}",
            reply.message()
        );
    }

    let addresses = api.account_path("/Addresses.json");
    let address = [
        ("CustomerName", "Jane Doe"),
        ("Street", "1 Main St"),
        ("City", "Springfield"),
        ("Region", "IL"),
        ("PostalCode", "62701"),
    ];
    let reply = api.post(&addresses, &address).await;
    assert_eq!(
        reply.message(),
        "Missing required parameter IsoCountry in the post body"
    );
    let mut with_country = address.to_vec();
    with_country.push(("IsoCountry", "USA"));
    let reply = api.post(&addresses, &with_country).await;
    assert!(reply.message().starts_with("Invalid parameter IsoCountry:"));
    assert!(!reply.message().contains("Jane"));
    with_country.pop();
    with_country.push(("IsoCountry", "US"));
    with_country.push(("EmergencyEnabled", "yes"));
    let reply = api.post(&addresses, &with_country).await;
    assert!(reply
        .message()
        .starts_with("Invalid parameter EmergencyEnabled:"));

    for query in ["PageSize=0", "PageSize=1001", "PageSize=ten", "Page=-1"] {
        let reply = api.get(&format!("/v1/Policies?{query}")).await;
        assert_error(&reply, 400, 20001);
        let name = query.split('=').next().unwrap();
        assert!(reply.message().contains(name), "{}", reply.message());
    }
    let reply = api.get("/v1/CustomerProfiles?Status=approved").await;
    assert!(reply.message().starts_with("Invalid parameter Status:"));
    let reply = api.get("/v1/Policies?PageToken=PAnothing").await;
    assert!(reply.message().starts_with("Invalid parameter PageToken:"));

    // A JSON body is refused: the API takes forms.
    let json = api
        .send(
            api.http
                .post(format!("{}/v1/CustomerProfiles", api.base))
                .header("Content-Type", "application/json")
                .body("{\"FriendlyName\":\"x\"}"),
        )
        .await;
    assert_error(&json, 400, 20001);
    assert!(json.message().contains("application/x-www-form-urlencoded"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn status_and_draft_rules_are_enforced() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let primary = emulator.primary_profile_sid().to_owned();
    let path = format!("/v1/CustomerProfiles/{primary}");

    // The primary profile is twilio-approved: no field updates, no status requests.
    let rename = api.post(&path, &[("FriendlyName", "renamed")]).await;
    assert_error(&rename, 400, 20001);
    assert!(
        rename.message().contains("twilio-approved"),
        "{}",
        rename.message()
    );
    let back = api.post(&path, &[("Status", "draft")]).await;
    assert!(back.message().starts_with("Invalid parameter Status:"));

    let profile = api
        .create_profile(
            "Draft",
            "d@example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            None,
        )
        .await;
    let path = format!("/v1/CustomerProfiles/{profile}");
    let approve = api.post(&path, &[("Status", "twilio-approved")]).await;
    assert_error(&approve, 400, 20001);
    assert!(approve.message().contains("only draft -> pending-review"));
    let bogus = api.post(&path, &[("Status", "approved")]).await;
    assert!(bogus.message().starts_with("Invalid parameter Status:"));

    let updated = api
        .post(
            &path,
            &[
                ("FriendlyName", "Renamed"),
                ("StatusCallback", "http://127.0.0.1:9/cb"),
            ],
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json["friendly_name"], "Renamed");
    assert_eq!(updated.json["status_callback"], "http://127.0.0.1:9/cb");

    // An object is assigned once; unknown objects and addresses are refused.
    let assignments = format!("{path}/EntityAssignments");
    api.create(&assignments, &[("ObjectSid", &primary)]).await;
    let again = api.post(&assignments, &[("ObjectSid", &primary)]).await;
    assert!(
        again.message().contains("already assigned"),
        "{}",
        again.message()
    );
    let unknown = api
        .post(
            &assignments,
            &[("ObjectSid", "IT00000000000000000000000000000000")],
        )
        .await;
    assert!(unknown
        .message()
        .starts_with("Invalid parameter ObjectSid:"));
    let malformed = api.post(&assignments, &[("ObjectSid", "12")]).await;
    assert!(malformed
        .message()
        .starts_with("Invalid parameter ObjectSid:"));

    // Channel endpoints: phone-number and a number of the account.
    let channels = format!("{path}/ChannelEndpointAssignments");
    let number = emulator.phone_number_sids()[0].clone();
    let bad_type = api
        .post(
            &channels,
            &[
                ("ChannelEndpointType", "fax"),
                ("ChannelEndpointSid", &number),
            ],
        )
        .await;
    assert!(bad_type
        .message()
        .starts_with("Invalid parameter ChannelEndpointType:"));
    let unknown_number = api
        .post(
            &channels,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", "PN00000000000000000000000000000000"),
            ],
        )
        .await;
    assert!(unknown_number
        .message()
        .starts_with("Invalid parameter ChannelEndpointSid:"));
    let assigned = api
        .post(
            &channels,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", &number),
            ],
        )
        .await;
    assert_eq!(assigned.status, 201);
    assert_eq!(assigned.json["customer_profile_sid"], profile.as_str());
    assert!(assigned.json["sid"].as_str().unwrap().starts_with("RA"));

    // A bundle held by another one cannot be deleted; an end user held by a bundle neither.
    let attributes = common::representative(1).to_string();
    let user = api
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "rep"),
                ("Type", "authorized_representative_1"),
                ("Attributes", &attributes),
            ],
        )
        .await;
    api.create(&assignments, &[("ObjectSid", &user)]).await;
    let refused = api.delete(&format!("/v1/EndUsers/{user}")).await;
    assert!(
        refused.message().contains("assigned to"),
        "{}",
        refused.message()
    );
    assert_eq!(api.delete(&path).await.status, 204);
    assert_eq!(
        api.delete(&format!("/v1/EndUsers/{user}")).await.status,
        204
    );
    assert_eq!(api.get(&path).await.status, 404);
    emulator.shutdown().await;
}

#[tokio::test]
async fn trust_hub_lists_page_with_absolute_urls() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let mut created = Vec::new();
    for i in 0..5 {
        let name = if i % 2 == 0 { "Acme Corp" } else { "Other" };
        created.push(
            api.create_profile(
                name,
                "c@acme.example.com",
                policies::SECONDARY_CUSTOMER_PROFILE,
                None,
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    let first = api.get("/v1/CustomerProfiles?PageSize=2").await;
    assert_eq!(first.status, 200);
    let meta = &first.json["meta"];
    assert_eq!(meta["key"], "results");
    assert_eq!(meta["page"], 0);
    assert_eq!(meta["page_size"], 2);
    assert_eq!(meta["previous_page_url"], Value::Null);
    let base = emulator.base_url();
    assert_eq!(
        meta["first_page_url"],
        format!("{base}/v1/CustomerProfiles?PageSize=2&Page=0")
    );
    assert_eq!(meta["url"], meta["first_page_url"]);
    let mut page = first;
    let mut pages = 0;
    loop {
        pages += 1;
        for item in page.json["results"].as_array().unwrap() {
            seen.push(item["sid"].as_str().unwrap().to_owned());
            assert!(item["url"].as_str().unwrap().starts_with(&base));
            assert!(item["date_created"].as_str().unwrap().ends_with('Z'));
        }
        let next = page.json["meta"]["next_page_url"].clone();
        match next.as_str() {
            None => break,
            Some(url) => {
                assert!(url.starts_with(&format!("{base}/v1/CustomerProfiles?PageSize=2&Page=")));
                assert!(url.contains("&PageToken=PA"));
                page = api.get(url).await;
                assert_eq!(page.status, 200);
                assert_eq!(page.json["meta"]["url"], url);
            }
        }
    }
    assert_eq!(pages, 3);
    // The seeded primary profile first, then ours in creation order, none twice.
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], emulator.primary_profile_sid());
    assert_eq!(&seen[1..], &created[..]);

    // Back from the last page.
    let previous = page.json["meta"]["previous_page_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(previous.contains("PageToken=PB"));
    let back = api.get(&previous).await;
    let back_sids: Vec<&str> = back.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sid"].as_str().unwrap())
        .collect();
    assert_eq!(back_sids, vec![seen[2].as_str(), seen[3].as_str()]);

    // FriendlyName filter (space encoded as %20 and as +), echoed in the links.
    for query in ["FriendlyName=Acme%20Corp", "FriendlyName=Acme+Corp"] {
        let filtered = api.get(&format!("/v1/CustomerProfiles?{query}")).await;
        let results = filtered.json["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r["friendly_name"] == "Acme Corp"));
        assert_eq!(
            filtered.json["meta"]["first_page_url"],
            format!("{base}/v1/CustomerProfiles?FriendlyName=Acme%20Corp&PageSize=50&Page=0")
        );
    }
    let approved = api.get("/v1/CustomerProfiles?Status=twilio-approved").await;
    assert_eq!(approved.json["results"].as_array().unwrap().len(), 1);

    // The catalog pages too, with its own keys.
    let policies = api.get("/v1/Policies?PageSize=4").await;
    assert_eq!(policies.json["results"].as_array().unwrap().len(), 4);
    let rest = api
        .get(policies.json["meta"]["next_page_url"].as_str().unwrap())
        .await;
    assert_eq!(rest.json["results"].as_array().unwrap().len(), 2);
    assert_eq!(rest.json["meta"]["next_page_url"], Value::Null);
    let types = api.get("/v1/EndUserTypes").await;
    assert_eq!(types.json["meta"]["key"], "end_user_types");
    assert!(types.json["end_user_types"].as_array().unwrap().len() >= 3);
    let documents = api.get("/v1/SupportingDocumentTypes").await;
    assert_eq!(documents.json["meta"]["key"], "supporting_document_types");
    emulator.shutdown().await;
}

#[tokio::test]
async fn api_2010_lists_page_with_relative_uris() {
    let emulator = start(EmulatorConfig::default().with_phone_numbers(5))
        .await
        .unwrap();
    let api = Api::new(&emulator);
    let path = api.account_path("/Addresses.json");
    let mut created = Vec::new();
    for i in 0..5 {
        // Raw body with %20 spaces.
        let name = if i < 2 { "Main%20Office" } else { "Branch" };
        let body = format!(
            "CustomerName=Jane%20Doe&Street=1%20Main%20St&City=Springfield&Region=IL&PostalCode=62701&IsoCountry=US&FriendlyName={name}"
        );
        let reply = api.post_raw(&path, &body).await;
        assert_eq!(reply.status, 201, "{}", reply.json);
        assert_eq!(reply.json["street"], "1 Main St");
        let date = reply.json["date_created"].as_str().unwrap();
        assert!(date.ends_with(" +0000") && date.contains(", "), "{date}");
        created.push(reply.json["sid"].as_str().unwrap().to_owned());
    }
    let first = api.get(&format!("{path}?PageSize=2")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.json["start"], 0);
    assert_eq!(first.json["end"], 1);
    assert_eq!(first.json["page"], 0);
    assert_eq!(first.json["page_size"], 2);
    assert_eq!(first.json["previous_page_uri"], Value::Null);
    assert_eq!(first.json["uri"], format!("{path}?PageSize=2&Page=0"));
    let mut seen = Vec::new();
    let mut page = first;
    let mut starts = Vec::new();
    loop {
        starts.push((page.json["start"].clone(), page.json["end"].clone()));
        for address in page.json["addresses"].as_array().unwrap() {
            seen.push(address["sid"].as_str().unwrap().to_owned());
        }
        match page.json["next_page_uri"].as_str() {
            None => break,
            Some(uri) => {
                assert!(
                    uri.starts_with(&format!("{path}?PageSize=2&Page=")),
                    "{uri}"
                );
                assert!(uri.contains("&PageToken=PA"));
                page = api.get(uri).await;
            }
        }
    }
    assert_eq!(seen, created);
    assert_eq!(
        starts,
        vec![
            (Value::from(0), Value::from(1)),
            (Value::from(2), Value::from(3)),
            (Value::from(4), Value::from(4)),
        ]
    );
    let filtered = api.get(&format!("{path}?FriendlyName=Main+Office")).await;
    assert_eq!(filtered.json["addresses"].as_array().unwrap().len(), 2);
    assert_eq!(
        filtered.json["first_page_uri"],
        format!("{path}?FriendlyName=Main%20Office&PageSize=50&Page=0")
    );

    let numbers = api
        .get(&api.account_path("/IncomingPhoneNumbers.json?PageSize=3"))
        .await;
    let listed = numbers.json["incoming_phone_numbers"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed[0]["phone_number"]
        .as_str()
        .unwrap()
        .starts_with("+1555"));
    let rest = api
        .get(numbers.json["next_page_uri"].as_str().unwrap())
        .await;
    assert_eq!(
        rest.json["incoming_phone_numbers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let sid = &emulator.phone_number_sids()[4];
    let fetched = api
        .get(&api.account_path(&format!("/IncomingPhoneNumbers/{sid}.json")))
        .await;
    assert_eq!(fetched.json["sid"], sid.as_str());

    // Update and delete an address.
    let one = api.account_path(&format!("/Addresses/{}.json", created[0]));
    let updated = api
        .post(&one, &[("Street", "2 Side St"), ("StreetSecondary", "")])
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json["street"], "2 Side St");
    assert_eq!(updated.json["street_secondary"], Value::Null);
    assert_eq!(api.delete(&one).await.status, 204);
    assert_eq!(api.get(&one).await.status, 404);
    emulator.shutdown().await;
}

async fn first_sids(seed: u64) -> (String, Vec<String>, String, String) {
    let emulator = start(EmulatorConfig::default().with_seed(seed))
        .await
        .unwrap();
    let api = Api::new(&emulator);
    let profile = api
        .create_profile(
            "x",
            "x@example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            None,
        )
        .await;
    let address = api
        .create(
            &api.account_path("/Addresses.json"),
            &[
                ("CustomerName", "n"),
                ("Street", "1 Main St"),
                ("City", "c"),
                ("Region", "r"),
                ("PostalCode", "1"),
                ("IsoCountry", "US"),
            ],
        )
        .await;
    let primary = emulator.primary_profile_sid().to_owned();
    let numbers = emulator.phone_number_sids();
    emulator.shutdown().await;
    (primary, numbers, profile, address)
}

#[tokio::test]
async fn sids_are_deterministic_under_a_seed() {
    let a = first_sids(11).await;
    let b = first_sids(11).await;
    let c = first_sids(12).await;
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    assert_ne!(a.2, c.2);
    for sid in a.1.iter().chain([&a.0, &a.2, &a.3]) {
        assert_eq!(sid.len(), 34);
        assert!(sid[2..]
            .chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()));
    }
    assert!(a.0.starts_with("BU") && a.2.starts_with("BU") && a.3.starts_with("AD"));
}

#[tokio::test]
async fn resources_have_the_spec_shapes() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let base = emulator.base_url();
    let created = api
        .post(
            "/v1/CustomerProfiles",
            &[
                ("FriendlyName", "friendly_name"),
                ("Email", "email"),
                ("PolicySid", policies::SECONDARY_CUSTOMER_PROFILE),
                ("StatusCallback", "http://www.example.com"),
            ],
        )
        .await;
    assert_eq!(created.status, 201);
    let profile = &created.json;
    let sid = profile["sid"].as_str().unwrap();
    let mut keys: Vec<&String> = profile.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "account_sid",
            "date_created",
            "date_updated",
            "email",
            "errors",
            "friendly_name",
            "links",
            "policy_sid",
            "sid",
            "status",
            "status_callback",
            "url",
            "valid_until"
        ]
    );
    assert_eq!(profile["status"], "draft");
    assert_eq!(profile["account_sid"], emulator.account_sid());
    assert_eq!(profile["url"], format!("{base}/v1/CustomerProfiles/{sid}"));
    assert_eq!(
        profile["links"]["customer_profiles_evaluations"],
        format!("{base}/v1/CustomerProfiles/{sid}/Evaluations")
    );
    assert_eq!(profile["errors"], Value::Null);
    assert_eq!(profile["valid_until"], Value::Null);
    let date = profile["date_created"].as_str().unwrap();
    assert_eq!(date.len(), "2019-07-30T22:29:24Z".len());

    let document = api
        .post(
            "/v1/SupportingDocuments",
            &[
                ("FriendlyName", "address"),
                ("Type", "customer_profile_address"),
                (
                    "Attributes",
                    "{\"address_sids\":\"ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                ),
            ],
        )
        .await;
    assert_eq!(document.json["status"], "DRAFT");
    assert_eq!(document.json["mime_type"], Value::Null);
    assert_eq!(
        document.json["attributes"]["address_sids"],
        "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );

    let policy = api
        .get(&format!(
            "/v1/Policies/{}",
            policies::SECONDARY_CUSTOMER_PROFILE
        ))
        .await;
    let end_users = policy.json["requirements"]["end_user"].as_array().unwrap();
    assert_eq!(end_users.len(), 3);
    assert_eq!(
        end_users[0]["type"],
        "customer_profile_business_information"
    );
    assert_eq!(end_users[0]["fields"].as_array().unwrap().len(), 9);
    let by_name = api
        .get("/v1/EndUserTypes/customer_profile_business_information")
        .await;
    assert_eq!(by_name.status, 200);
    let oy = by_name.json["sid"].as_str().unwrap();
    assert!(oy.starts_with("OY"));
    assert_eq!(
        api.get(&format!("/v1/EndUserTypes/{oy}")).await.json,
        by_name.json
    );

    let trust_product = api
        .post(
            "/v1/TrustProducts",
            &[
                ("FriendlyName", "A2P"),
                ("Email", "a2p@example.com"),
                ("PolicySid", policies::A2P_TRUST_PRODUCT),
            ],
        )
        .await;
    assert_eq!(trust_product.status, 201);
    let tp = trust_product.json["sid"].as_str().unwrap();
    assert!(
        trust_product.json["links"]["trust_products_entity_assignments"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/TrustProducts/{tp}/EntityAssignments"))
    );
    let assignment = api
        .post(
            &format!("/v1/TrustProducts/{tp}/EntityAssignments"),
            &[("ObjectSid", emulator.primary_profile_sid())],
        )
        .await;
    assert_eq!(assignment.json["trust_product_sid"], tp);
    let evaluation = api
        .post(
            &format!("/v1/TrustProducts/{tp}/Evaluations"),
            &[("PolicySid", policies::A2P_TRUST_PRODUCT)],
        )
        .await;
    assert_eq!(evaluation.json["trust_product_sid"], tp);
    assert_eq!(evaluation.json["status"], "noncompliant");
    let counters = emulator.counters();
    assert_eq!(counters.trust_products, 1);
    assert_eq!(counters.customer_profiles, 1);
    assert_eq!(counters.supporting_documents, 1);
    emulator.shutdown().await;
}
