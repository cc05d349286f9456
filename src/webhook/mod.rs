//! A webhook for status events: verified, deduplicated, typed; mounted in your own server.
//!
//! Twilio reports status changes two ways, both to URLs you choose:
//!
//! - **bundles** (customer profiles, trust products): a form POSTed to the bundle's
//!   `StatusCallback` (`AccountSid`, `BundleSid`, `Status`, `FailureReason`), signed with the
//!   classic `X-Twilio-Signature`, with an `I-Twilio-Idempotency-Token` header that is the same
//!   for every delivery of one event;
//! - **A2P brands and campaigns**: Event Streams POSTs a JSON array of CloudEvents to a webhook
//!   sink (`com.twilio.messaging.compliance.brand-registration.*`,
//!   `…campaign-registration.*`), signed under the `bodySHA256` scheme (the URL carries the
//!   body's SHA-256, the signature covers the URL).
//!
//! [`Webhook::handle`] takes a request as your server received it (method, full URL, headers,
//! body) and either refuses it with the status to answer ([`Rejection`]: 405, 413, 415, 403,
//! 400, or 409 while another delivery of the same event is being handed over), or gives a
//! [`Delivery`]: the [`Event`]s not handed over before. Hand them over, call
//! [`Delivery::complete`] and answer 200. A `Delivery` dropped without `complete` forgets its
//! events, so that Twilio's next delivery (answer 5xx) hands them over again. `trusthub-axum`
//! mounts this in an axum server.
//!
//! Rules:
//!
//! - **Verified first.** Nothing of the body is read before its signature is checked (a form is
//!   decoded, since its parameters are what is signed), with the checks of
//!   [`crate::signature`], which agree with Twilio's own libraries. Several auth tokens may be
//!   accepted (a rotation, subaccounts): [`Webhook::also_accept`].
//! - **Once.** Twilio delivers at least once. A delivery whose event was handed over already
//!   (same idempotency token and same signed parameters, or same CloudEvent `source` and `id`)
//!   is a *replay*: acknowledged with 200 and not handed over again. A replay whose body was
//!   changed fails its signature (403). A form callback without an idempotency token cannot be
//!   told apart from a new one: it is handed over each time it comes.
//! - **Order.** Deliveries may arrive out of order. An A2P event carries the time of the change
//!   (`updateddate`): one older than the status recorded for its SID is still handed over once,
//!   marked [`Event::stale`], and changes nothing recorded. A bundle callback carries no time:
//!   bundles are ordered by arrival, and [`Change`]'s `previous` tells the user which
//!   transition it reports. What is recorded lives in a [`DeliveryStore`] ([`MemoryStore`] by
//!   default; share one between replicas).
//! - **Nothing secret repeated.** Rejections and `Debug` output never contain the auth token,
//!   the signature, or body values.
//!
//! Twilio does not say whether a `BU…` is a customer profile or a trust product; give
//! [`Webhook::bundle_kind`] a closure that knows (your records, a flow's journal), else the
//! event is a [`Change::Bundle`].
//!
//! ```
//! use trusthub::signature::compute_signature;
//! use trusthub::webhook::{BundleKind, Change, Webhook};
//!
//! let webhook = Webhook::new("auth token").bundle_kind(|_| BundleKind::CustomerProfile);
//! let url = "https://isv.example.com/twilio/status";
//! let body = "AccountSid=AC0123456789abcdef0123456789abcdef\
//!     &BundleSid=BU0123456789abcdef0123456789abcdef&Status=twilio-approved";
//! let params = trusthub::signature::decode_form(body.as_bytes())?;
//! let signature = compute_signature("auth token", url, &params);
//! let headers = [
//!     ("Content-Type", "application/x-www-form-urlencoded"),
//!     ("X-Twilio-Signature", signature.as_str()),
//!     ("I-Twilio-Idempotency-Token", "event-1"),
//! ];
//!
//! let delivery = webhook.handle("POST", url, &headers, body.as_bytes()).unwrap();
//! let event = &delivery.events()[0];
//! assert!(matches!(event.change, Change::CustomerProfile { .. }));
//! assert_eq!(event.change.status(), "twilio-approved");
//! delivery.complete(); // handed over: answer 200
//!
//! // Twilio delivers it again: acknowledged (200), nothing to hand over.
//! let again = webhook.handle("POST", url, &headers, body.as_bytes()).unwrap();
//! assert!(again.events().is_empty());
//! assert_eq!(again.duplicates(), 1);
//!
//! // Tampered on the way: refused.
//! let forged = body.replace("approved", "rejected");
//! let refused = webhook.handle("POST", url, &headers, forged.as_bytes()).unwrap_err();
//! assert_eq!(refused.status(), 403);
//! assert!(!refused.to_string().contains(&signature));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod event;
mod store;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;
use time::OffsetDateTime;

use crate::api::runtime::text::printable;
use crate::sid::{AccountSid, ObjectSid, SidError};
use crate::signature::{
    self, decode_form, FormDecodeError, SignatureError, StatusCallbackEvent, SIGNATURE_HEADER,
};

pub use event::{BrandStatus, BundleKind, CampaignStatus, Change, Event, Failure, Kind};
pub use store::{Advance, Claim, DeliveryKey, DeliveryStore, MemoryStore, StatusUpdate};

/// The header Twilio sets to the same value on every delivery of one bundle callback.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// The largest body read by default (Event Streams batches are at most 64 kB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The CloudEvent types read as brand events (any type under this prefix).
pub const BRAND_EVENT_PREFIX: &str = "com.twilio.messaging.compliance.brand-registration.";
/// The CloudEvent types read as campaign events (any type under this prefix).
pub const CAMPAIGN_EVENT_PREFIX: &str = "com.twilio.messaging.compliance.campaign-registration.";

type BundleClassifier = dyn Fn(&ObjectSid) -> BundleKind + Send + Sync;

/// The handler of Twilio's status callbacks and Event Streams deliveries (see the
/// [module](self)).
#[derive(Clone)]
pub struct Webhook {
    tokens: Vec<String>,
    store: Arc<dyn DeliveryStore>,
    bundle_kind: Option<Arc<BundleClassifier>>,
    max_body_bytes: usize,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field(
                "auth_tokens",
                &format_args!("[{} redacted]", self.tokens.len()),
            )
            .field("bundle_kind", &self.bundle_kind.is_some())
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// A webhook checking signatures with `auth_token` (the account's, or each subaccount's:
    /// [`also_accept`](Self::also_accept)), remembering deliveries in a [`MemoryStore`].
    pub fn new(auth_token: impl Into<String>) -> Self {
        Webhook {
            tokens: vec![auth_token.into()],
            store: Arc::new(MemoryStore::new()),
            bundle_kind: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Accepts signatures made with `auth_token` too: the secondary token during a rotation,
    /// or the tokens of the subaccounts whose callbacks come to this URL. Every token is tried
    /// on every request (no early exit).
    pub fn also_accept(mut self, auth_token: impl Into<String>) -> Self {
        self.tokens.push(auth_token.into());
        self
    }

    /// Keeps deliveries and statuses in `store` (one shared store for replicas).
    pub fn store(mut self, store: impl DeliveryStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Keeps deliveries and statuses in a store shared with others.
    pub fn shared_store(mut self, store: Arc<dyn DeliveryStore>) -> Self {
        self.store = store;
        self
    }

    /// Tells customer profiles from trust products: `classify` gets each bundle's SID.
    pub fn bundle_kind(
        mut self,
        classify: impl Fn(&ObjectSid) -> BundleKind + Send + Sync + 'static,
    ) -> Self {
        self.bundle_kind = Some(Arc::new(classify));
        self
    }

    /// Refuses bodies larger than `bytes` (413); [`DEFAULT_MAX_BODY_BYTES`] by default.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The largest body accepted.
    pub fn body_limit(&self) -> usize {
        self.max_body_bytes
    }

    /// The store in use.
    pub fn delivery_store(&self) -> &Arc<dyn DeliveryStore> {
        &self.store
    }

    /// Handles one request: `method`, the full `url` Twilio called (scheme, host, path and
    /// query, as configured at Twilio: behind a proxy, the public URL), the request's `headers`
    /// (names in any case) and its raw `body`.
    ///
    /// `Ok`: answer 200 once the delivery's events are handed over and
    /// [`Delivery::complete`] is called (or 5xx if they could not be; dropping the `Delivery`
    /// forgets them). `Err`: answer [`Rejection::status`] with its text.
    pub fn handle(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Delivery<'_>, Rejection> {
        self.handle_at(method, url, headers, body, SystemTime::now())
    }

    /// [`handle`](Self::handle) with the arrival time given (tests, replays of recorded
    /// traffic).
    pub fn handle_at(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery<'_>, Rejection> {
        if !method.eq_ignore_ascii_case("POST") {
            return Err(Rejection::new(RejectReason::Method));
        }
        if body.len() > self.max_body_bytes {
            return Err(Rejection::new(RejectReason::TooLarge {
                limit: self.max_body_bytes,
            }));
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let content_type = header("Content-Type").unwrap_or_default();
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let signature = header(SIGNATURE_HEADER).unwrap_or_default();
        let received_at = OffsetDateTime::from(now);
        let incoming = if media == "application/x-www-form-urlencoded" {
            let params = decode_form(body).map_err(|e| Rejection::new(RejectReason::Form(e)))?;
            signature::verify_params(&self.tokens, url, &params, signature)
                .map_err(|e| Rejection::new(RejectReason::Signature(e)))?;
            let token = header(IDEMPOTENCY_HEADER).and_then(clean_token);
            vec![self.read_bundle(&params, token, received_at)?]
        } else if media == "application/json" || media.ends_with("+json") {
            signature::verify_body(&self.tokens, url, body, signature)
                .map_err(|e| Rejection::new(RejectReason::Signature(e)))?;
            read_cloud_events(body, received_at)?
        } else {
            return Err(Rejection::new(RejectReason::ContentType));
        };
        self.claim_all(incoming, now)
    }

    /// A bundle callback's event (not yet claimed).
    fn read_bundle(
        &self,
        params: &[(String, String)],
        token: Option<String>,
        received_at: OffsetDateTime,
    ) -> Result<Incoming, Rejection> {
        let event = StatusCallbackEvent::from_form(params).map_err(|e| {
            Rejection::new(RejectReason::Event(EventProblem::from_callback_error(&e)))
        })?;
        let sid = ObjectSid::from(event.customer_profile_sid);
        // Same token and same signed parameters: same event. (Sorted, so that an order change
        // by a proxy does not make a new event.)
        let key = token.as_ref().map(|token| {
            let mut sorted: Vec<&(String, String)> = params.iter().collect();
            sorted.sort();
            let mut parts: Vec<&[u8]> = vec![b"bundle-callback", token.as_bytes()];
            for (k, v) in sorted {
                parts.push(k.as_bytes());
                parts.push(v.as_bytes());
            }
            DeliveryKey::from_parts(&parts)
        });
        let kind = match &self.bundle_kind {
            Some(classify) => classify(&sid),
            None => BundleKind::Unknown,
        };
        Ok(Incoming {
            key,
            sid: sid.to_string(),
            status: event.status.as_str().to_owned(),
            at: received_at,
            detail: Detail::Bundle { sid, kind },
            failures: event
                .failure_reason
                .as_deref()
                .map(|reason| vec![Failure::text(reason)])
                .unwrap_or_default(),
            account_sid: event.account_sid,
            id: token,
            event_type: None,
            time: None,
            received_at,
        })
    }

    /// Claims every event of a delivery; hands over the new ones.
    fn claim_all(
        &self,
        incoming: Vec<Incoming>,
        now: SystemTime,
    ) -> Result<Delivery<'_>, Rejection> {
        let mut delivery = Delivery {
            webhook: self,
            events: Vec::new(),
            claimed: Vec::new(),
            duplicates: 0,
            ignored: 0,
            now,
            completed: false,
        };
        for item in incoming {
            let Some(item) = item.known() else {
                delivery.ignored += 1;
                continue;
            };
            if let Some(key) = &item.key {
                match self.store.claim(key, now) {
                    Claim::New => delivery.claimed.push(key.clone()),
                    Claim::Done => {
                        delivery.duplicates += 1;
                        continue;
                    }
                    // Dropping `delivery` releases what this one claimed.
                    Claim::InProgress => return Err(Rejection::new(RejectReason::InProgress)),
                }
            }
            let advance = self.store.advance(&StatusUpdate {
                sid: &item.sid,
                status: &item.status,
                at: item.at,
                delivery: item.key.as_ref(),
            });
            delivery.events.push(item.into_event(advance));
        }
        Ok(delivery)
    }
}

/// The events of one accepted request. Hand them over, then [`complete`](Self::complete) it
/// and answer 200; dropped without `complete`, it forgets its events so that Twilio's next
/// delivery hands them over again (answer 5xx then).
pub struct Delivery<'w> {
    webhook: &'w Webhook,
    events: Vec<Event>,
    claimed: Vec<DeliveryKey>,
    duplicates: usize,
    ignored: usize,
    now: SystemTime,
    completed: bool,
}

impl fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("events", &self.events)
            .field("duplicates", &self.duplicates)
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}

impl Delivery<'_> {
    /// The HTTP status to answer once the events are handed over.
    pub const STATUS: u16 = 200;

    /// The events not handed over before, in the order of the request.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// How many events of this request were handed over before (replays, Twilio's retries).
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// How many CloudEvents of other types this request carried (acknowledged, not read).
    pub fn ignored(&self) -> usize {
        self.ignored
    }

    /// The events are handed over: remember them, so that no later delivery hands them over
    /// again. Answer [`Delivery::STATUS`].
    pub fn complete(mut self) {
        for key in &self.claimed {
            self.webhook.store.complete(key, self.now);
        }
        self.completed = true;
    }
}

impl Drop for Delivery<'_> {
    fn drop(&mut self) {
        if !self.completed {
            for key in &self.claimed {
                self.webhook.store.release(key);
            }
        }
    }
}

/// Why a request is not accepted, and the HTTP status to answer. Its text never contains the
/// auth token, the signature or a value of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: RejectReason,
}

impl Rejection {
    fn new(reason: RejectReason) -> Self {
        Rejection { reason }
    }

    /// The HTTP status to answer: 405 (not POST; answer `Allow: POST`), 413 (body too
    /// large), 415 (neither a form nor JSON), 403 (signature missing or wrong, or the body is
    /// not the signed one), 400 (signed but unreadable), 409 (another delivery of the same event
    /// is being handed over: Twilio retries later).
    pub fn status(&self) -> u16 {
        match self.reason {
            RejectReason::Method => 405,
            RejectReason::TooLarge { .. } => 413,
            RejectReason::ContentType => 415,
            RejectReason::Signature(_) => 403,
            RejectReason::Form(_) | RejectReason::Json { .. } | RejectReason::Event(_) => 400,
            RejectReason::InProgress => 409,
        }
    }

    /// Why.
    pub fn reason(&self) -> &RejectReason {
        &self.reason
    }

    /// The `Allow` header to send with a 405.
    pub fn allow(&self) -> Option<&'static str> {
        matches!(self.reason, RejectReason::Method).then_some("POST")
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status(), self.reason)
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.reason {
            RejectReason::Signature(e) => Some(e),
            RejectReason::Form(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a request was refused ([`Rejection::reason`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// Not a POST.
    #[error("only POST is accepted")]
    Method,
    /// The body is larger than the webhook accepts.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Neither `application/x-www-form-urlencoded` nor JSON.
    #[error("the body must be application/x-www-form-urlencoded or application/json")]
    ContentType,
    /// The signature is missing, malformed or does not match (or the body is not the signed one).
    #[error("{0}")]
    Signature(SignatureError),
    /// The form body cannot be decoded (so its signature cannot be checked).
    #[error("{0}")]
    Form(FormDecodeError),
    /// The signed body is not JSON, or not CloudEvents.
    #[error("the body is not a JSON array of CloudEvents (line {line}, column {column})")]
    Json {
        /// Where the JSON went wrong (1-based; 0 when the JSON is valid but not CloudEvents).
        line: usize,
        /// Where the JSON went wrong.
        column: usize,
    },
    /// A signed event lacks what it must say, or says it wrongly.
    #[error("{0}")]
    Event(EventProblem),
    /// Another delivery of the same event is being handed over right now.
    #[error("another delivery of this event is being handled; try again later")]
    InProgress,
}

/// What is wrong with a signed event: which field, and what, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventProblem {
    field: String,
    problem: String,
}

impl EventProblem {
    fn new(field: &str, problem: impl Into<String>) -> Self {
        EventProblem {
            field: printable(field).into_owned(),
            problem: problem.into(),
        }
    }

    fn from_callback_error(error: &signature::CallbackError) -> Self {
        match error {
            signature::CallbackError::MissingParameter { names } => {
                EventProblem::new(names.first().copied().unwrap_or("?"), "missing")
            }
            signature::CallbackError::InvalidSid { parameter, source } => {
                EventProblem::new(parameter, sid_problem(source))
            }
            other => EventProblem::new("body", other.to_string()),
        }
    }

    /// The field at fault (a form parameter, or `data.brandsid`...).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for EventProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event field {}: {}", self.field, self.problem)
    }
}

/// A SID error described without the value.
fn sid_problem(error: &SidError) -> String {
    format!("not a {} ({})", error.kind(), error.problem())
}

/// An idempotency token kept only when it is short printable ASCII (it becomes the event's id).
fn clean_token(token: &str) -> Option<String> {
    let token = token.trim();
    (!token.is_empty() && token.len() <= 256 && token.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| token.to_owned())
}

/// What an event is about, before the store says what came before.
enum Detail {
    Bundle {
        sid: ObjectSid,
        kind: BundleKind,
    },
    Brand {
        sid: crate::sid::BrandRegistrationSid,
        external_brand_id: Option<String>,
    },
    Campaign {
        sid: crate::sid::UsAppToPersonSid,
        brand_sid: Option<crate::sid::BrandRegistrationSid>,
        messaging_service_sid: Option<crate::sid::MessagingServiceSid>,
    },
    /// A CloudEvent of another type.
    Other,
}

/// One event read from a verified request, not yet claimed.
struct Incoming {
    key: Option<DeliveryKey>,
    sid: String,
    status: String,
    at: OffsetDateTime,
    detail: Detail,
    failures: Vec<Failure>,
    account_sid: Option<AccountSid>,
    id: Option<String>,
    event_type: Option<String>,
    time: Option<OffsetDateTime>,
    received_at: OffsetDateTime,
}

impl Incoming {
    fn known(self) -> Option<Self> {
        (!matches!(self.detail, Detail::Other)).then_some(self)
    }

    fn into_event(self, advance: Advance) -> Event {
        let previous = advance.previous;
        let change = match self.detail {
            Detail::Bundle { sid, kind } => match kind {
                BundleKind::CustomerProfile => Change::CustomerProfile {
                    sid: sid_as(sid),
                    status: event::profile_status(&self.status),
                    previous: previous.as_deref().map(event::profile_status),
                },
                BundleKind::TrustProduct => Change::TrustProduct {
                    sid: sid_as(sid),
                    status: event::trust_product_status(&self.status),
                    previous: previous.as_deref().map(event::trust_product_status),
                },
                BundleKind::Unknown => Change::Bundle {
                    sid,
                    status: event::profile_status(&self.status),
                    previous: previous.as_deref().map(event::profile_status),
                },
            },
            Detail::Brand {
                sid,
                external_brand_id,
            } => Change::Brand {
                sid,
                status: BrandStatus::from_wire(&self.status),
                previous: previous.as_deref().map(BrandStatus::from_wire),
                external_brand_id,
            },
            Detail::Campaign {
                sid,
                brand_sid,
                messaging_service_sid,
            } => Change::Campaign {
                sid,
                status: CampaignStatus::from_wire(&self.status),
                previous: previous.as_deref().map(CampaignStatus::from_wire),
                brand_sid,
                messaging_service_sid,
            },
            Detail::Other => unreachable!("other CloudEvents are counted, not handed over"),
        };
        Event {
            change,
            failures: self.failures,
            account_sid: self.account_sid,
            id: self.id,
            event_type: self.event_type,
            time: self.time,
            received_at: self.received_at,
            stale: advance.stale,
        }
    }
}

/// A `BU` SID as the kind the classifier named (same prefix: the conversion cannot fail).
fn sid_as<T: TryFrom<ObjectSid>>(sid: ObjectSid) -> T {
    match T::try_from(sid) {
        Ok(sid) => sid,
        Err(_) => unreachable!("customer profiles and trust products share the BU prefix"),
    }
}

/// The events of a verified Event Streams body: a JSON array of CloudEvents (a single object is
/// read as an array of one).
fn read_cloud_events(body: &[u8], received_at: OffsetDateTime) -> Result<Vec<Incoming>, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Rejection::new(RejectReason::Json {
            line: e.line(),
            column: e.column(),
        })
    })?;
    let items = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(Rejection::new(RejectReason::Json { line: 0, column: 0 }));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| read_cloud_event(index, item, received_at))
        .collect()
}

fn read_cloud_event(
    index: usize,
    item: &Value,
    received_at: OffsetDateTime,
) -> Result<Incoming, Rejection> {
    let bad = |field: &str, problem: &str| {
        Rejection::new(RejectReason::Event(EventProblem::new(
            &format!("[{index}].{field}"),
            problem,
        )))
    };
    let Value::Object(event) = item else {
        return Err(bad("", "not a JSON object"));
    };
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
    let event_type = text(event.get("type")).ok_or_else(|| bad("type", "missing"))?;
    let id = text(event.get("id")).map(|id| printable(id).into_owned());
    let source = text(event.get("source")).unwrap_or_default();
    let key = id
        .as_ref()
        .map(|id| DeliveryKey::from_parts(&[b"cloudevent", source.as_bytes(), id.as_bytes()]));
    let data = match event.get("data") {
        Some(Value::Object(data)) => Some(data),
        None | Some(Value::Null) => None,
        Some(_) => return Err(bad("data", "not a JSON object")),
    };
    let field = |name: &str| data.and_then(|d| text(d.get(name)));
    let sid_field = |name: &str, required: bool| -> Result<Option<ObjectSid>, Rejection> {
        match field(name) {
            None if required => Err(bad(&format!("data.{name}"), "missing")),
            None => Ok(None),
            Some(value) => value
                .parse::<ObjectSid>()
                .map(Some)
                .map_err(|e| bad(&format!("data.{name}"), &sid_problem(&e))),
        }
    };
    // Typed SIDs: a SID of another kind where one kind is expected is an error.
    fn typed<T: TryFrom<ObjectSid>>(sid: Option<ObjectSid>) -> Result<Option<T>, &'static str> {
        sid.map(|sid| T::try_from(sid).map_err(|_| "a SID of another kind"))
            .transpose()
    }
    let time = data
        .and_then(|d| d.get("updateddate"))
        .and_then(Value::as_i64)
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .or_else(|| {
            text(event.get("time")).and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
        });
    let account_sid: Option<AccountSid> =
        typed(sid_field("accountsid", false)?).map_err(|p| bad("data.accountsid", p))?;
    let (detail, status, errors_field) = if let Some(suffix) =
        event_type.strip_prefix(BRAND_EVENT_PREFIX)
    {
        let sid = typed(sid_field("brandsid", true)?)
            .map_err(|p| bad("data.brandsid", p))?
            .ok_or_else(|| bad("data.brandsid", "missing"))?;
        let detail = Detail::Brand {
            sid,
            external_brand_id: field("externalbrandid").map(|s| printable(s).into_owned()),
        };
        let status = field("brandstatus").map(str::to_owned).unwrap_or_else(|| {
            // No status: the event's name says it.
            match suffix {
                "brand-registered" => "registered".to_owned(),
                "brand-failure" => "registration_failed".to_owned(),
                "brand-unverified" => "unverified".to_owned(),
                other => printable(other).into_owned(),
            }
        });
        (detail, status, "brandregistrationerrors")
    } else if let Some(suffix) = event_type.strip_prefix(CAMPAIGN_EVENT_PREFIX) {
        let sid = typed(sid_field("campaignsid", true)?)
            .map_err(|p| bad("data.campaignsid", p))?
            .ok_or_else(|| bad("data.campaignsid", "missing"))?;
        let detail = Detail::Campaign {
            sid,
            brand_sid: typed(sid_field("brandsid", false)?).map_err(|p| bad("data.brandsid", p))?,
            messaging_service_sid: typed(sid_field("messagingservicesid", false)?)
                .map_err(|p| bad("data.messagingservicesid", p))?,
        };
        let status = field("campaignstatus")
            .map(str::to_owned)
            .unwrap_or_else(|| match suffix {
                "campaign-approved" => "approved".to_owned(),
                "campaign-failure" => "failed".to_owned(),
                "campaign-submitted" => "pending".to_owned(),
                other => printable(other).into_owned(),
            });
        (detail, status, "campaignregistrationerrors")
    } else {
        (Detail::Other, String::new(), "")
    };
    let sid = match &detail {
        Detail::Brand { sid, .. } => sid.to_string(),
        Detail::Campaign { sid, .. } => sid.to_string(),
        _ => String::new(),
    };
    let failures = data
        .and_then(|d| d.get(errors_field))
        .and_then(Value::as_array)
        .map(|errors| errors.iter().filter_map(read_failure).collect())
        .unwrap_or_default();
    Ok(Incoming {
        key,
        sid,
        status: printable(&status).into_owned(),
        at: time.unwrap_or(received_at),
        detail,
        failures,
        account_sid,
        id,
        event_type: Some(printable(event_type).into_owned()),
        time,
        received_at,
    })
}

/// One registration error (`registrationerrorcode`, `…description`, `…url`, `…fields`).
fn read_failure(item: &Value) -> Option<Failure> {
    let item = item.as_object()?;
    let text = |name: &str| {
        item.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| printable(s).into_owned())
    };
    let code = match item.get("registrationerrorcode") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let fields = item
        .get("registrationerrorfields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(Value::as_str)
                .map(|f| printable(f).into_owned())
                .collect()
        })
        .unwrap_or_default();
    Some(Failure {
        code,
        description: text("registrationerrordescription"),
        url: text("registrationerrorurl"),
        fields,
    })
}

/// A delivery key for the doc tests of [`MemoryStore`].
#[doc(hidden)]
pub fn __key_for_doctests(text: &str) -> DeliveryKey {
    DeliveryKey::from_parts(&[text.as_bytes()])
}
