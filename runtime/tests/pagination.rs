//! Pagination over both Twilio list envelopes against a local HTTP server.

use crate::common;

use common::*;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::json;
use trusthub_runtime::{paginate, Error, ErrorKind, ListMeta, Page, Request, Transport};

#[derive(Debug, Deserialize)]
struct Policy {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct PolicyPage {
    results: Vec<Policy>,
    #[serde(default)]
    meta: ListMeta,
}

impl Page for PolicyPage {
    type Item = Policy;
    fn next_page(&self) -> Option<&str> {
        self.meta.next_page_url.as_deref()
    }
    fn into_items(self) -> Vec<Policy> {
        self.results
    }
}

#[derive(Debug, Deserialize)]
struct Address {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct AddressPage {
    addresses: Vec<Address>,
    next_page_uri: Option<String>,
}

impl Page for AddressPage {
    type Item = Address;
    fn next_page(&self) -> Option<&str> {
        self.next_page_uri.as_deref()
    }
    fn into_items(self) -> Vec<Address> {
        self.addresses
    }
}

const PAGE_2: &str = "/v1/Policies?PageSize=2&Page=1&PageToken=PT1";
const PAGE_3: &str = "/v1/Policies?PageSize=2&Page=2&PageToken=PT2";

/// A Trust Hub list of 6 policies in 3 pages. Page 1 links to Twilio's real host, page 2 to
/// `other_host` (a server that must never be called); both must be re-based onto the
/// configured server.
async fn trust_hub_server(other_host: String) -> TestServer {
    TestServer::start(move |_, request| {
        let (sids, next) = match request.target.as_str() {
            "/v1/Policies?PageSize=2" => (
                ["RN1", "RN2"],
                json!(format!("https://trusthub.twilio.com{PAGE_2}")),
            ),
            PAGE_2 => (["RN3", "RN4"], json!(format!("{other_host}{PAGE_3}"))),
            PAGE_3 => (["RN5", "RN6"], json!(null)),
            _ => return Reply::json(404, json!({"code": 20404, "message": "not found"})),
        };
        Reply::json(
            200,
            json!({
                "results": sids.iter().map(|sid| json!({"sid": sid})).collect::<Vec<_>>(),
                "meta": {"page_size": 2, "key": "results", "next_page_url": next},
            }),
        )
    })
    .await
}

fn first_policies_page() -> Request {
    let mut request = Request::new(&LIST_POLICIES, "/v1/Policies");
    request.query.push(("PageSize", "2".to_owned()));
    request
}

async fn collect_policies(transport: &Transport, limit: Option<usize>) -> Vec<String> {
    paginate::<PolicyPage>(transport.clone(), first_policies_page(), limit)
        .map_ok(|policy| policy.sid)
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn trust_hub_pages_are_followed_on_the_configured_host_only() {
    let other = TestServer::start(|_, _| Reply::json(200, json!({"results": []}))).await;
    let server = trust_hub_server(other.base_url()).await;
    let transport = builder_for(&server).build().unwrap();

    let all = collect_policies(&transport, None).await;
    assert_eq!(all, ["RN1", "RN2", "RN3", "RN4", "RN5", "RN6"]);
    let requests = server.requests();
    let targets: Vec<&str> = requests.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/v1/Policies?PageSize=2", PAGE_2, PAGE_3]);
    assert!(requests
        .iter()
        .all(|r| r.method == "GET" && r.header("authorization") == Some(AUTH_TOKEN_HEADER)));
    assert_eq!(other.count(), 0, "a host named by a response was called");
}

#[tokio::test]
async fn a_limit_stops_mid_page_without_fetching_more() {
    let other = TestServer::start(|_, _| Reply::status(500)).await;
    let server = trust_hub_server(other.base_url()).await;
    let transport = builder_for(&server).build().unwrap();

    assert_eq!(
        collect_policies(&transport, Some(5)).await,
        ["RN1", "RN2", "RN3", "RN4", "RN5"]
    );
    assert_eq!(server.count(), 3);

    // Item 3 is on page 2: page 3 is not fetched.
    assert_eq!(
        collect_policies(&transport, Some(3)).await,
        ["RN1", "RN2", "RN3"]
    );
    assert_eq!(server.count(), 3 + 2);

    // Item 2 is on page 1: one request.
    assert_eq!(collect_policies(&transport, Some(2)).await, ["RN1", "RN2"]);
    assert_eq!(server.count(), 5 + 1);

    // A zero limit sends nothing.
    assert!(collect_policies(&transport, Some(0)).await.is_empty());
    assert_eq!(server.count(), 6);
    assert_eq!(other.count(), 0);
}

#[tokio::test]
async fn pages_are_fetched_lazily() {
    let other = TestServer::start(|_, _| Reply::status(500)).await;
    let server = trust_hub_server(other.base_url()).await;
    let transport = builder_for(&server).build().unwrap();
    let mut stream = paginate::<PolicyPage>(transport, first_policies_page(), None);
    assert_eq!(server.count(), 0, "nothing is sent before the first poll");
    assert_eq!(stream.next().await.unwrap().unwrap().sid, "RN1");
    assert_eq!(stream.next().await.unwrap().unwrap().sid, "RN2");
    assert_eq!(server.count(), 1);
    assert_eq!(stream.next().await.unwrap().unwrap().sid, "RN3");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn twenty_ten_envelope_with_relative_next_page_uri() {
    let base = format!("/2010-04-01/Accounts/{AC}/Addresses.json");
    let page_2 = format!("{base}?PageSize=2&Page=1&PageToken=PA1");
    let page_3 = format!("{base}?PageSize=2&Page=2&PageToken=PA2");
    let (first, p2, p3) = (format!("{base}?PageSize=2"), page_2.clone(), page_3.clone());
    let server = TestServer::start(move |_, request| {
        let (sids, next) = if request.target == first {
            (["AD1", "AD2"], json!(p2))
        } else if request.target == p2 {
            (["AD3", "AD4"], json!(p3))
        } else if request.target == p3 {
            (["AD5", "AD6"], json!(null))
        } else {
            return Reply::status(404);
        };
        Reply::json(
            200,
            json!({
                "addresses": sids.iter().map(|sid| json!({"sid": sid})).collect::<Vec<_>>(),
                "next_page_uri": next, "page_size": 2,
            }),
        )
    })
    .await;
    let transport = builder_for(&server).build().unwrap();
    let path = format!(
        "/2010-04-01/Accounts/{}/Addresses.json",
        transport.account_sid()
    );
    let mut request = Request::new(&LIST_ADDRESSES, path);
    request.query.push(("PageSize", "2".to_owned()));
    let sids: Vec<String> = paginate::<AddressPage>(transport, request, Some(5))
        .map_ok(|a| a.sid)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sids, ["AD1", "AD2", "AD3", "AD4", "AD5"]);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, [format!("{base}?PageSize=2"), page_2, page_3]);
}

#[tokio::test]
async fn an_error_mid_stream_is_yielded_once_and_ends_the_stream() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::json(
            200,
            json!({"results": [{"sid": "RN1"}, {"sid": "RN2"}], "meta": {"next_page_url": "https://trusthub.twilio.com/v1/Policies?Page=1"}}),
        ),
        _ => Reply::json(404, json!({"code": 20404, "message": "gone"})),
    })
    .await;
    let transport = builder_for(&server).build().unwrap();
    let items: Vec<Result<Policy, Error>> =
        paginate::<PolicyPage>(transport, first_policies_page(), None)
            .collect()
            .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().sid, "RN1");
    assert_eq!(items[1].as_ref().unwrap().sid, "RN2");
    let error = items[2].as_ref().unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_page_that_does_not_decode_ends_the_stream_with_a_decode_error() {
    let server =
        TestServer::start(|_, _| Reply::json(200, json!({"results": [{"sid": 5}], "meta": {}})))
            .await;
    let transport = builder_for(&server).build().unwrap();
    let items: Vec<Result<Policy, Error>> =
        paginate::<PolicyPage>(transport, first_policies_page(), None)
            .collect()
            .await;
    assert_eq!(items.len(), 1);
    match &items[0] {
        Err(error) if error.kind() == ErrorKind::Decode => {
            assert_eq!(
                (error.operation(), error.status()),
                (Some("ListPolicies"), Some(200))
            );
            let detail = error.detail().expect("a Decode error has its detail");
            assert!(
                detail.starts_with("at results[0].sid: data error"),
                "{detail}"
            );
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn a_next_link_repeating_the_current_page_does_not_loop() {
    let server = TestServer::start(|_, _| {
        Reply::json(
            200,
            json!({"results": [{"sid": "RN1"}], "meta": {"next_page_url": "https://trusthub.twilio.com/v1/Policies?Page=1"}}),
        )
    })
    .await;
    let transport = builder_for(&server).build().unwrap();
    let items: Vec<Result<Policy, Error>> =
        paginate::<PolicyPage>(transport, first_policies_page(), None)
            .collect()
            .await;
    // Page 1 (first request), page at ?Page=1 (whose next link repeats itself), then the error.
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok());
    assert!(
        matches!(&items[2], Err(e) if e.kind() == ErrorKind::InvalidNextPage),
        "{:?}",
        items[2]
    );
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn pages_that_loop_between_two_links_are_detected() {
    // Page 1 links to page 2, page 2 back to page 1: without detection, endless requests.
    let server = TestServer::start(|index, _| {
        let next = if index % 2 == 0 { "Page=2" } else { "Page=1" };
        Reply::json(
            200,
            json!({"results": [{"sid": format!("RN{index}")}],
                   "meta": {"next_page_url": format!("https://trusthub.twilio.com/v1/Policies?{next}")}}),
        )
    })
    .await;
    let transport = builder_for(&server).build().unwrap();
    let items: Vec<Result<Policy, Error>> =
        paginate::<PolicyPage>(transport, first_policies_page(), None)
            .collect()
            .await;
    // The first page, ?Page=2, ?Page=1 (whose next link, ?Page=2, was read already), the error.
    assert_eq!(items.len(), 4, "{items:?}");
    assert!(items[..3].iter().all(Result::is_ok));
    match &items[3] {
        Err(error) if error.kind() == ErrorKind::InvalidNextPage => {
            let detail = error
                .detail()
                .expect("an InvalidNextPage error has its detail");
            assert!(detail.contains("the pages loop"), "{detail}")
        }
        other => panic!("expected InvalidNextPage, got {other:?}"),
    }
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn next_links_under_an_override_prefix_are_not_prefixed_twice() {
    let server = TestServer::start(|index, request| {
        let next = match index {
            // An emulator behind the prefix answers links that include it...
            0 => json!(format!(
                "http://{}/emu/v1/Policies?Page=1",
                request.header("host").unwrap()
            )),
            // ...Twilio-shaped links do not.
            1 => json!("https://trusthub.twilio.com/v1/Policies?Page=2"),
            _ => json!(null),
        };
        Reply::json(
            200,
            json!({"results": [{"sid": format!("RN{index}")}], "meta": {"next_page_url": next}}),
        )
    })
    .await;
    let transport = builder_for(&server)
        .base_url_override(format!("{}/emu", server.base_url()))
        .build()
        .unwrap();
    let sids: Vec<String> = paginate::<PolicyPage>(transport, first_policies_page(), None)
        .map_ok(|p| p.sid)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sids, ["RN0", "RN1", "RN2"]);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/emu/v1/Policies?PageSize=2",
            "/emu/v1/Policies?Page=1",
            "/emu/v1/Policies?Page=2"
        ]
    );
}
