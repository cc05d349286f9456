//! After submission: review rejections per requirement (which end user, document or field to fix), the
//! fix-and-resubmit path (updates of a rejected bundle's objects, counted; resubmission; a resubmission
//! that changed nothing a review named is rejected again; one that is not compliant goes back with its
//! errors), scripted review decisions, and the voice trust products (SHAKEN/STIR, CNAM) end to end.

use crate::common;

use std::time::{Duration, Instant};

use common::{assign_all, create_parts, invalid_field, requirement, Api, Flow};
use serde_json::{json, Value};
use trusthub_emulator::{
    policies, start, DecideError, Decision, Emulator, EmulatorConfig, RequirementRejection,
    MANUAL_REJECTION_CODE,
};

/// A compliant secondary profile, submitted (`in-review`).
async fn in_review(api: &Api, emulator: &Emulator, street: &str) -> Flow {
    let flow = create_parts(api, street, None).await;
    assign_all(api, &flow, emulator.primary_profile_sid()).await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(api.get(&path).await.json["status"], "in-review");
    flow
}

/// Polls the bundle at `path` until its status is `status` (at most 5 s).
async fn wait_status(api: &Api, path: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = api.get(path).await;
        if reply.json["status"] == status {
            return reply.json;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never became {status}: {}",
            reply.json
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn business_registration() -> Decision {
    Decision::reject("The Business ID you provided could not be verified").with_requirement(
        RequirementRejection::new("customer_profile_business_information")
            .field("business_registration_number"),
    )
}

// =========================================================================================================
// Rejections per requirement
// =========================================================================================================

#[tokio::test]
async fn a_review_rejects_per_requirement_naming_the_object_and_the_fields() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let flow = in_review(&api, &emulator, "1 Main St").await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);

    // What the policy does not have is refused, naming what it has; nothing changes.
    let unknown =
        Decision::reject("x").with_requirement(RequirementRejection::new("business_information"));
    let Err(DecideError::InvalidDecision { why, .. }) =
        emulator.decide(&flow.profile, unknown).await
    else {
        panic!("an unknown requirement is refused");
    };
    assert!(
        why.contains("customer_profile_business_information"),
        "{why}"
    );
    let wrong_field = Decision::reject("x").with_requirement(
        RequirementRejection::new("authorized_representative_1").field("business_name"),
    );
    let error = emulator
        .decide(&flow.profile, wrong_field)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("phone_number"), "{error}");
    assert_eq!(api.get(&path).await.json["status"], "in-review");

    let decision = business_registration()
        .with_requirement(
            RequirementRejection::new("authorized_representative_1").field("phone_number"),
        )
        .with_requirement(
            RequirementRejection::new("customer_profile_address")
                .field("address_sids")
                .code(18603)
                .message("The address could not be verified against the registration"),
        );
    emulator.decide(&flow.profile, decision).await.unwrap();
    let rejected = api.get(&path).await;
    assert_eq!(rejected.json["status"], "twilio-rejected");
    assert_eq!(
        rejected.json["errors"],
        json!([
            {
                "code": 18602,
                "message": "The Business ID you provided could not be verified",
                "fields": ["business_registration_number"],
                "requirement_name": "customer_profile_business_information",
                "object_type": "customer_profile_business_information",
                "object_sid": flow.business,
            },
            {
                "code": 18604,
                "message": "Unable to verify Authorized representative #1",
                "fields": ["phone_number"],
                "requirement_name": "authorized_representative_1",
                "object_type": "authorized_representative_1",
                "object_sid": flow.representative_1,
            },
            {
                "code": 18603,
                "message": "The address could not be verified against the registration",
                "fields": ["address_sids"],
                "requirement_name": "customer_profile_address",
                "object_type": "customer_profile_address",
                "object_sid": flow.document,
            },
        ])
    );

    // The control endpoint takes the same requirements; a plain rejection keeps its one entry.
    let second = in_review(&api, &emulator, "2 Main St").await;
    let control = format!("/__emulator/customer-profiles/{}/decision", second.profile);
    let bad = api
        .control_post(
            &control,
            r#"{"decision": "reject", "requirements": [{"requirement": "nope"}]}"#,
        )
        .await;
    assert_eq!(bad.status(), 400);
    let approve_with = api
        .control_post(
            &control,
            r#"{"decision": "approve", "requirements": [{"requirement": "authorized_representative_2"}]}"#,
        )
        .await;
    assert_eq!(approve_with.status(), 400);
    let decided = api
        .control_post(
            &control,
            r#"{"decision": "reject", "reason": "Representative unreachable",
                "requirements": [{"requirement": "authorized_representative_2", "fields": ["email"]}]}"#,
        )
        .await;
    assert_eq!(decided.status(), 200);
    let errors = api
        .get(&format!("/v1/CustomerProfiles/{}", second.profile))
        .await
        .json["errors"]
        .clone();
    assert_eq!(errors[0]["code"], 18605);
    assert_eq!(errors[0]["object_sid"], second.representative_2.as_str());
    assert_eq!(errors[0]["fields"], json!(["email"]));

    let third = in_review(&api, &emulator, "3 Main St").await;
    emulator
        .decide(&third.profile, Decision::reject("Blurry documents"))
        .await
        .unwrap();
    let errors = api
        .get(&format!("/v1/CustomerProfiles/{}", third.profile))
        .await
        .json["errors"]
        .clone();
    assert_eq!(
        errors,
        json!([{
            "code": MANUAL_REJECTION_CODE,
            "message": "Blurry documents",
            "fields": [],
            "requirement_name": null,
            "object_type": null,
            "object_sid": null,
        }])
    );
    emulator.shutdown().await;
}

// =========================================================================================================
// Fix and resubmit
// =========================================================================================================

#[tokio::test]
async fn a_rejected_profile_is_fixed_and_resubmitted_updating_only_what_changed() {
    // The first review rejects the business registration, the second approves.
    let emulator = start(EmulatorConfig::default().with_review_decisions(
        Duration::from_millis(10),
        vec![business_registration(), Decision::Approve],
    ))
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let flow = create_parts(&api, "1 Main St", None).await;
    assign_all(&api, &flow, emulator.primary_profile_sid()).await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    api.post(&path, &[("Status", "pending-review")]).await;
    let rejected = wait_status(&api, &path, "twilio-rejected").await;
    assert_eq!(rejected["errors"][0]["object_sid"], flow.business.as_str());
    assert_eq!(
        rejected["errors"][0]["fields"],
        json!(["business_registration_number"])
    );

    // Resubmitted with nothing changed: rejected again at once, with the same errors, no review.
    let before = emulator.counters();
    let again = api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["status"], "pending-review");
    let still = api.get(&path).await;
    assert_eq!(still.json["status"], "twilio-rejected");
    assert_eq!(still.json["errors"], rejected["errors"]);

    // A rejected profile can be edited: its fields, its assignments, its objects.
    let renamed = api.post(&path, &[("FriendlyName", "Acme (fixed)")]).await;
    assert_eq!(renamed.status, 200, "{}", renamed.json);
    let mut business = common::business_information();
    business["business_registration_number"] = json!("987654321");
    let updated = api
        .post(
            &format!("/v1/EndUsers/{}", flow.business),
            &[("Attributes", &business.to_string())],
        )
        .await;
    assert_eq!(updated.status, 200);
    let resubmitted = api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(resubmitted.json["status"], "pending-review");
    let approved = wait_status(&api, &path, "twilio-approved").await;
    assert_eq!(approved["errors"], Value::Null);
    assert_eq!(approved["friendly_name"], "Acme (fixed)");

    let after = emulator.counters();
    assert_eq!(after.end_user_updates - before.end_user_updates, 1);
    assert_eq!(
        after.supporting_document_updates,
        before.supporting_document_updates
    );
    assert_eq!(after.address_updates, before.address_updates);
    assert_eq!(after.bundle_updates - before.bundle_updates, 1);
    assert_eq!(after.bundle_submissions - before.bundle_submissions, 2);
    assert_eq!(after.bundle_resubmissions - before.bundle_resubmissions, 2);
    assert_eq!(after.bundle_resubmissions, 2);
    assert_eq!(after.end_users, before.end_users, "nothing created");
    assert_eq!(after.entity_assignments, before.entity_assignments);
    assert_eq!(
        after.evaluations - before.evaluations,
        1,
        "the unchanged resubmission was not evaluated, the fixed one afresh"
    );

    // An approved profile is not resubmitted.
    let refused = api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(refused.status, 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_rejected_bundle_takes_new_assignments_and_a_noncompliant_resubmission_is_rejected() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let flow = in_review(&api, &emulator, "1 Main St").await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    let assignments = format!("{path}/EntityAssignments");
    // In review: no assignment changes.
    let locked = api
        .post(&assignments, &[("ObjectSid", &flow.business)])
        .await;
    assert_eq!(locked.status, 400);
    emulator
        .decide(
            &flow.profile,
            Decision::reject("Address unverifiable").with_requirement(
                RequirementRejection::new("customer_profile_address").field("address_sids"),
            ),
        )
        .await
        .unwrap();

    // Changing the address itself counts as a change of what the review named.
    let address_path = api.account_path(&format!("/Addresses/{}.json", flow.address));
    let moved = api.post(&address_path, &[("Street", "2 Main St")]).await;
    assert_eq!(moved.status, 200);
    assert_eq!(emulator.counters().address_updates, 1);

    // Replacing a representative: unassign it, assign another (invalid email) while rejected.
    let listed = api.get(&assignments).await;
    let old = listed.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["object_sid"] == flow.representative_1.as_str())
        .unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.delete(&format!("{assignments}/{old}")).await.status,
        204
    );
    let mut attributes = common::representative(1);
    attributes["email"] = json!("not-an-email");
    let replacement = api
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "rep 1"),
                ("Type", "authorized_representative_1"),
                ("Attributes", &attributes.to_string()),
            ],
        )
        .await;
    api.create(&assignments, &[("ObjectSid", &replacement)])
        .await;
    let counters = emulator.counters();
    assert_eq!(counters.entity_assignment_deletions, 1);

    // Not compliant: back to twilio-rejected, with the evaluation's errors.
    api.post(&path, &[("Status", "pending-review")]).await;
    let rejected = api.get(&path).await;
    assert_eq!(rejected.json["status"], "twilio-rejected");
    let errors = rejected.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], 22217);
    assert_eq!(errors[0]["requirement_name"], "authorized_representative_1");
    assert_eq!(errors[0]["object_sid"], replacement.as_str());
    assert_eq!(errors[0]["fields"], json!(["email"]));
    assert!(!errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("not-an-email"));

    // Fixed: in review again.
    let fixed = api
        .post(
            &format!("/v1/EndUsers/{replacement}"),
            &[("Attributes", &common::representative(1).to_string())],
        )
        .await;
    assert_eq!(fixed.status, 200);
    api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(api.get(&path).await.json["status"], "in-review");
    emulator
        .decide(&flow.profile, Decision::Approve)
        .await
        .unwrap();
    assert_eq!(api.get(&path).await.json["status"], "twilio-approved");
    emulator.shutdown().await;
}

// =========================================================================================================
// Voice trust products
// =========================================================================================================

/// Creates a trust product under `policy`; returns its SID.
async fn trust_product(api: &Api, name: &str, policy: &str) -> String {
    api.create(
        "/v1/TrustProducts",
        &[
            ("FriendlyName", name),
            ("Email", "voice@acme.example.com"),
            ("PolicySid", policy),
        ],
    )
    .await
}

async fn evaluate_product(api: &Api, product: &str, policy: &str) -> Value {
    let reply = api
        .post(
            &format!("/v1/TrustProducts/{product}/Evaluations"),
            &[("PolicySid", policy)],
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    reply.json
}

/// Assigns `number` to the bundle at `collection/sid`; returns the answer.
async fn assign_number(api: &Api, collection: &str, sid: &str, number: &str) -> common::Reply {
    api.post(
        &format!("/v1/{collection}/{sid}/ChannelEndpointAssignments"),
        &[
            ("ChannelEndpointType", "phone-number"),
            ("ChannelEndpointSid", number),
        ],
    )
    .await
}

#[tokio::test]
async fn shaken_stir_runs_end_to_end() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let policy = policies::SHAKEN_STIR;
    let requirements =
        api.get(&format!("/v1/Policies/{policy}")).await.json["requirements"].clone();
    assert_eq!(requirements["end_user"], json!([]));
    assert_eq!(
        requirements["supporting_customer_profiles"][0]["requirement_name"],
        "customer_profile"
    );

    let numbers = emulator.phone_number_sids();
    let draft = create_parts(&api, "1 Main St", None).await;
    let product = trust_product(&api, "SHAKEN/STIR", policy).await;
    let evaluation = evaluate_product(&api, &product, policy).await;
    assert_eq!(evaluation["status"], "noncompliant");
    assert_eq!(evaluation["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        requirement(&evaluation, "customer_profile")["error_code"],
        22220
    );

    // Numbers only after the Business Profile, and only its own.
    let early = assign_number(&api, "TrustProducts", &product, &numbers[0]).await;
    assert_eq!(early.status, 400);
    assert!(
        early.message().contains("no Business Profile"),
        "{}",
        early.message()
    );
    let assignments = format!("/v1/TrustProducts/{product}/EntityAssignments");
    let draft_assignment = api
        .create(&assignments, &[("ObjectSid", &draft.profile)])
        .await;
    let evaluation = evaluate_product(&api, &product, policy).await;
    let result = requirement(&evaluation, "customer_profile");
    assert_eq!(result["error_code"], 22221);
    assert!(result["failure_reason"].as_str().unwrap().contains("draft"));
    api.delete(&format!("{assignments}/{draft_assignment}"))
        .await;

    let flow = in_review(&api, &emulator, "2 Main St").await;
    assert_eq!(
        assign_number(&api, "CustomerProfiles", &flow.profile, &numbers[0])
            .await
            .status,
        201
    );
    api.create(&assignments, &[("ObjectSid", &flow.profile)])
        .await;
    let not_on_profile = assign_number(&api, "TrustProducts", &product, &numbers[1]).await;
    assert_eq!(not_on_profile.status, 400);
    assert!(not_on_profile
        .message()
        .starts_with("Invalid parameter ChannelEndpointSid:"));
    assert!(not_on_profile
        .message()
        .contains("only phone numbers already assigned"));
    let assigned = assign_number(&api, "TrustProducts", &product, &numbers[0]).await;
    assert_eq!(assigned.status, 201);
    assert_eq!(assigned.json["trust_product_sid"], product.as_str());

    // The profile is still in review: the trust product can be submitted beside it.
    let evaluation = evaluate_product(&api, &product, policy).await;
    assert_eq!(evaluation["status"], "compliant", "{evaluation}");
    let path = format!("/v1/TrustProducts/{product}");
    api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(api.get(&path).await.json["status"], "in-review");
    emulator.decide(&product, Decision::Approve).await.unwrap();
    let approved = api.get(&path).await;
    assert_eq!(approved.json["status"], "twilio-approved");
    assert!(approved.json["valid_until"].is_string());
    // Numbers can still be added after the approval (Twilio: before or after the submission).
    assert_eq!(
        assign_number(&api, "CustomerProfiles", &flow.profile, &numbers[1])
            .await
            .status,
        201
    );
    assert_eq!(
        assign_number(&api, "TrustProducts", &product, &numbers[1])
            .await
            .status,
        201
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn cnam_runs_end_to_end_and_checks_the_display_name_and_the_registration() {
    let emulator = start(EmulatorConfig::default().with_review_decisions(
        Duration::from_millis(5),
        vec![
            Decision::reject("Display name does not match the business").with_requirement(
                RequirementRejection::new("cnam_information").field("cnam_display_name"),
            ),
            Decision::Approve,
        ],
    ))
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let policy = policies::CNAM;
    let requirements =
        api.get(&format!("/v1/Policies/{policy}")).await.json["requirements"].clone();
    assert_eq!(requirements["end_user"][0]["type"], "cnam_information");
    assert_eq!(
        requirements["end_user"][0]["fields"],
        json!(["cnam_display_name"])
    );
    let user_type = api.get("/v1/EndUserTypes/cnam_information").await;
    assert_eq!(
        user_type.json["fields"][0]["machine_name"],
        "cnam_display_name"
    );

    let product = trust_product(&api, "CNAM", policy).await;
    let evaluation = evaluate_product(&api, &product, policy).await;
    assert_eq!(
        requirement(&evaluation, "cnam_information")["error_code"],
        22214
    );
    assert_eq!(
        requirement(&evaluation, "customer_profile")["error_code"],
        22220
    );

    // A display name against each of Twilio's conditions, never echoed.
    let cnam = api
        .create(
            "/v1/EndUsers",
            &[
                ("FriendlyName", "cnam"),
                ("Type", "cnam_information"),
                (
                    "Attributes",
                    r#"{"cnam_display_name": "9 to 5 Sheds & Co"}"#,
                ),
            ],
        )
        .await;
    let assignments = format!("/v1/TrustProducts/{product}/EntityAssignments");
    api.create(&assignments, &[("ObjectSid", &cnam)]).await;
    for (name, problem) in [
        ("9 to 5 Sheds & Co", "17 characters"),
        ("9 to 5 Sheds", "does not start with a letter"),
        ("Sheds & Co", "position 7"),
        ("Texas", "generic"),
    ] {
        api.post(
            &format!("/v1/EndUsers/{cnam}"),
            &[(
                "Attributes",
                &json!({ "cnam_display_name": name }).to_string(),
            )],
        )
        .await;
        let evaluation = evaluate_product(&api, &product, policy).await;
        let field = invalid_field(
            requirement(&evaluation, "cnam_information"),
            "cnam_display_name",
        );
        assert_eq!(field["error_code"], 22217);
        let reason = field["failure_reason"].as_str().unwrap();
        assert!(reason.contains(problem), "{name}: {reason}");
        assert!(!reason.contains(name), "{reason}");
    }

    // A profile registered with a VAT number is not eligible; an EIN one is.
    let vat = create_parts(&api, "1 Main St", None).await;
    let mut business = common::business_information();
    business["business_registration_identifier"] = json!("VAT");
    api.post(
        &format!("/v1/EndUsers/{}", vat.business),
        &[("Attributes", &business.to_string())],
    )
    .await;
    assign_all(&api, &vat, emulator.primary_profile_sid()).await;
    api.post(
        &format!("/v1/CustomerProfiles/{}", vat.profile),
        &[("Status", "pending-review")],
    )
    .await;
    let vat_assignment = api
        .create(&assignments, &[("ObjectSid", &vat.profile)])
        .await;
    let evaluation = evaluate_product(&api, &product, policy).await;
    let result = requirement(&evaluation, "customer_profile");
    assert_eq!(result["error_code"], 22221, "{result}");
    assert!(result["failure_reason"]
        .as_str()
        .unwrap()
        .contains("EIN or DUNS"));
    api.delete(&format!("{assignments}/{vat_assignment}")).await;

    let flow = in_review(&api, &emulator, "2 Main St").await;
    let number = emulator.phone_number_sids()[2].clone();
    assign_number(&api, "CustomerProfiles", &flow.profile, &number).await;
    api.create(&assignments, &[("ObjectSid", &flow.profile)])
        .await;
    assert_eq!(
        assign_number(&api, "TrustProducts", &product, &number)
            .await
            .status,
        201
    );
    api.post(
        &format!("/v1/EndUsers/{cnam}"),
        &[("Attributes", r#"{"cnam_display_name": "Acme Sheds Inc."}"#)],
    )
    .await;
    let evaluation = evaluate_product(&api, &product, policy).await;
    assert_eq!(evaluation["status"], "compliant", "{evaluation}");

    // Submitted; the first review rejects the display name; fixed and resubmitted, approved.
    let path = format!("/v1/TrustProducts/{product}");
    api.post(&path, &[("Status", "pending-review")]).await;
    let rejected = wait_status(&api, &path, "twilio-rejected").await;
    assert_eq!(rejected["errors"][0]["object_sid"], cnam.as_str());
    assert_eq!(rejected["errors"][0]["object_type"], "cnam_information");
    api.post(
        &format!("/v1/EndUsers/{cnam}"),
        &[("Attributes", r#"{"cnam_display_name": "Acme Sheds"}"#)],
    )
    .await;
    api.post(&path, &[("Status", "pending-review")]).await;
    wait_status(&api, &path, "twilio-approved").await;
    let evaluations = api.get(&format!("{path}/Evaluations")).await;
    assert!(evaluations.json["results"].as_array().unwrap().len() >= 7);
    emulator.shutdown().await;
}
