//! Test helpers: a small reqwest wrapper speaking the emulator's wire format (never the workspace's client
//! crates), and fixtures for the seed document's flow.

#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use trusthub_emulator::{policies, Emulator};

/// One HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    /// The JSON error message (empty when absent).
    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }

    /// The JSON error code (0 when absent).
    pub fn code(&self) -> u64 {
        self.json["code"].as_u64().unwrap_or(0)
    }
}

/// A client with the emulator's account credentials.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub user: String,
    pub password: String,
}

impl Api {
    pub fn new(emulator: &Emulator) -> Self {
        Api {
            http: reqwest::Client::new(),
            base: emulator.base_url(),
            user: emulator.account_sid().to_owned(),
            password: emulator.auth_token().to_owned(),
        }
    }

    /// `/2010-04-01/Accounts/{AccountSid}` + `rest`.
    pub fn account_path(&self, rest: &str) -> String {
        format!("/2010-04-01/Accounts/{}{rest}", self.user)
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .expect("the emulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.http.delete(self.url(path))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    pub async fn request(&self, method: Method, path: &str) -> Reply {
        self.send(self.http.request(method, self.url(path))).await
    }

    /// POST a raw form body (to control the encoding).
    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.send(
            self.http
                .post(self.url(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.to_owned()),
        )
        .await
    }

    /// Creates a resource, asserting 201, and returns its SID.
    pub async fn create(&self, path: &str, form: &[(&str, &str)]) -> String {
        let reply = self.post(path, form).await;
        assert_eq!(reply.status, 201, "POST {path}: {}", reply.json);
        reply.json["sid"].as_str().expect("a sid").to_owned()
    }

    /// POSTs a JSON text to a control endpoint (`/__emulator/...`) without credentials: the control
    /// endpoints need none.
    pub async fn control_post(&self, path: &str, body: &str) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .body(body.to_owned())
            .send()
            .await
            .expect("the emulator answers")
    }

    /// GETs a control endpoint (`/__emulator/...`) without credentials.
    pub async fn control_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("the emulator answers")
    }

    /// Creates a customer profile under `policy_sid` (with a `StatusCallback` when given), asserting
    /// 201, and returns its SID.
    pub async fn create_profile(
        &self,
        friendly_name: &str,
        email: &str,
        policy_sid: &str,
        status_callback: Option<&str>,
    ) -> String {
        let mut form = vec![
            ("FriendlyName", friendly_name),
            ("Email", email),
            ("PolicySid", policy_sid),
        ];
        if let Some(url) = status_callback {
            form.push(("StatusCallback", url));
        }
        self.create("/v1/CustomerProfiles", &form).await
    }
}

pub fn business_information() -> Value {
    json!({
        "business_name": "acme business",
        "social_media_profile_urls": "",
        "website_url": "test.com",
        "business_regions_of_operation": "USA_AND_CANADA",
        "business_type": "Partnership",
        "business_registration_identifier": "EIN",
        "business_identity": "direct_customer",
        "business_industry": "EDUCATION",
        "business_registration_number": "123456789",
    })
}

pub fn representative(n: u8) -> Value {
    json!({
        "job_position": "CEO",
        "last_name": "acme",
        "phone_number": "+14155550102",
        "first_name": format!("rep{n}"),
        "email": format!("rep{n}@acme.com"),
        "business_title": "ceo",
    })
}

/// SIDs of a bundle built like the seed document's steps 2-9.
pub struct Flow {
    pub profile: String,
    pub business: String,
    pub representative_1: String,
    pub representative_2: String,
    pub address: String,
    pub document: String,
}

/// Steps 2-7: an empty secondary profile and its parts, nothing assigned yet.
pub async fn create_parts(api: &Api, street: &str, status_callback: Option<&str>) -> Flow {
    let profile = api
        .create_profile(
            "Acme Secondary",
            "compliance@acme.example.com",
            policies::SECONDARY_CUSTOMER_PROFILE,
            status_callback,
        )
        .await;
    let business_attributes = business_information().to_string();
    let business = api
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "friendly name"),
                ("Type", "customer_profile_business_information"),
                ("Attributes", &business_attributes),
            ],
        )
        .await;
    let mut reps = Vec::new();
    for n in [1u8, 2] {
        let attributes = representative(n).to_string();
        let end_user_type = format!("authorized_representative_{n}");
        let name = format!("auth_rep_{n}");
        reps.push(
            api.create(
                "/v1/EndUsers",
                &[
                    ("FriendlyName", &name),
                    ("Type", &end_user_type),
                    ("Attributes", &attributes),
                ],
            )
            .await,
        );
    }
    let address = api
        .create(
            &api.account_path("/Addresses.json"),
            &[
                ("CustomerName", "name"),
                ("Street", street),
                ("StreetSecondary", "Apt B"),
                ("City", "Any City"),
                ("Region", "Any Region"),
                ("PostalCode", "12345"),
                ("IsoCountry", "US"),
            ],
        )
        .await;
    let document_attributes = json!({ "address_sids": address }).to_string();
    let document = api
        .create(
            "/v1/SupportingDocuments",
            &[
                ("FriendlyName", "address"),
                ("Type", "customer_profile_address"),
                ("Attributes", &document_attributes),
            ],
        )
        .await;
    Flow {
        profile,
        business,
        representative_1: reps[0].clone(),
        representative_2: reps[1].clone(),
        address,
        document,
    }
}

/// Step 8: assigns the parts and the primary profile.
pub async fn assign_all(api: &Api, flow: &Flow, primary: &str) {
    let path = format!("/v1/CustomerProfiles/{}/EntityAssignments", flow.profile);
    for object in [
        flow.business.as_str(),
        &flow.representative_1,
        &flow.representative_2,
        &flow.document,
        primary,
    ] {
        api.create(&path, &[("ObjectSid", object)]).await;
    }
}

/// Runs an evaluation of the profile against the secondary policy.
pub async fn evaluate(api: &Api, profile: &str) -> Value {
    let reply = api
        .post(
            &format!("/v1/CustomerProfiles/{profile}/Evaluations"),
            &[("PolicySid", policies::SECONDARY_CUSTOMER_PROFILE)],
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    reply.json
}

/// The requirement result named `name` of an evaluation.
pub fn requirement<'a>(evaluation: &'a Value, name: &str) -> &'a Value {
    evaluation["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["requirement_name"] == name)
        .unwrap_or_else(|| panic!("no requirement {name} in {evaluation}"))
}

/// The `invalid` entry for `field` of a requirement result.
pub fn invalid_field<'a>(result: &'a Value, field: &str) -> &'a Value {
    result["invalid"]
        .as_array()
        .expect("invalid")
        .iter()
        .find(|f| f["object_field"] == field)
        .unwrap_or_else(|| panic!("{field} is not invalid in {result}"))
}
