//! Response decoding: arbitrary bytes as the 200 answer of every generated model (resources,
//! nested types and list pages of both APIs) decode to a value, to an `ErrorKind::Decode` error,
//! or (for Twilio's error shape) to an `ErrorKind::Api` one, never to a panic or another error; as an error answer of any status they always give an `ApiError`
//! with a bounded message. Decoded evaluations go through the facade's reading of them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trusthub::api::api_v2010 as api;
use trusthub::api::runtime::{decode_json, ApiError, ErrorKind, HttpMethod, Operation, Response};
use trusthub::api::trusthub_v1 as th;
use trusthub::evaluation::Evaluation;

static OPERATION: Operation = Operation {
    id: "Fuzz",
    method: HttpMethod::Get,
    base_url: "https://trusthub.twilio.com",
    path_template: "/v1/Fuzz",
};

fn decode<T: trusthub::api::runtime::serde::de::DeserializeOwned + std::fmt::Debug>(
    response: &Response,
) -> Option<T> {
    match decode_json::<T>(&OPERATION, response) {
        Ok(value) => {
            let _ = format!("{value:?}");
            Some(value)
        }
        Err(error) if error.kind() == ErrorKind::Decode => {
            assert_eq!(error.status(), Some(200));
            let detail = error.detail().expect("a Decode error has its detail");
            assert!(
                detail.len() < 1000,
                "a decode detail of {} bytes",
                detail.len()
            );
            None
        }
        // Twilio's error shape in a 2xx answer is refused as the error it is.
        Err(error) if error.kind() == ErrorKind::Api => {
            let api = error.api_error().expect("an Api error holds its answer");
            assert_eq!(api.status(), 200);
            assert!(api.code().is_some(), "an error answer without a code: {api:?}");
            None
        }
        Err(other) => panic!("decoding gave {other:?}, not a Decode or Api error"),
    }
}

macro_rules! decode_all {
    ($response:expr; $($t:ty),+ $(,)?) => {$( let _ = decode::<$t>($response); )+};
}

fuzz_target!(|data: &[u8]| {
    let response = Response::from_parts(200, data);
    decode_all!(&response;
        th::BundleError, th::ComplianceInquiry, th::ComplianceRegistration,
        th::ComplianceTollfreeInquiry, th::CustomerProfile,
        th::CustomerProfileChannelEndpointAssignment, th::CustomerProfileEntityAssignment,
        th::EndUser, th::EndUserType, th::EvaluationField,
        th::EvaluationResult, th::ListCustomerProfileChannelEndpointAssignmentResponse,
        th::ListCustomerProfileEntityAssignmentResponse, th::ListCustomerProfileEvaluationResponse,
        th::ListCustomerProfileResponse, th::ListEndUserResponse, th::ListEndUserTypeResponse,
        th::ListPoliciesResponse, th::ListSupportingDocumentResponse,
        th::ListSupportingDocumentTypeResponse, th::ListTrustProductChannelEndpointAssignmentResponse,
        th::ListTrustProductEntityAssignmentResponse, th::ListTrustProductEvaluationResponse,
        th::ListTrustProductResponse, th::Policy, th::PolicyAcceptedDocument,
        th::PolicyDocumentRequirement, th::PolicyEndUserRequirement, th::PolicyRequirements,
        th::SupportingDocument, th::SupportingDocumentType, th::TrustProduct,
        th::TrustProductChannelEndpointAssignment, th::TrustProductEntityAssignment,
        th::TrustProductEvaluation, th::TypeField,
        api::Address, api::IncomingPhoneNumber, api::IncomingPhoneNumberCapabilities,
        api::ListAddressResponse, api::ListIncomingPhoneNumberResponse,
    );
    if let Some(answer) = decode::<th::CustomerProfileEvaluation>(&response) {
        let evaluation = Evaluation::from(answer);
        let _ = (
            evaluation.is_compliant(),
            evaluation.failures(),
            evaluation.to_string(),
        );
    }
    let status = 300 + u16::from(data.first().copied().unwrap_or(0)) % 300;
    let error = ApiError::from_answer("Fuzz", status, None, None, data);
    assert_eq!(error.status(), status);
    assert!(
        error.message().chars().count() <= 2300,
        "an error message of {} characters",
        error.message().chars().count()
    );
    let _ = (format!("{error:?}"), error.to_string());
});
