//! The typed events a webhook hands over.

use std::fmt;

use time::OffsetDateTime;

use crate::api::runtime::text::printable;
use crate::api::runtime::StringEnum;
use crate::api::trusthub_v1::{CustomerProfileStatus, TrustProductStatus};
use crate::sid::{
    AccountSid, BrandRegistrationSid, CustomerProfileSid, MessagingServiceSid, ObjectSid,
    TrustProductSid, UsAppToPersonSid,
};

/// Reads a wire value exactly, then ignoring case and `-`/`_`, as `from_wire` of `T`; a value
/// that matches nothing is kept as received.
fn lenient<T: StringEnum>(wire: &str, unlisted: impl Fn(&T) -> bool) -> T {
    let exact = T::from_wire(wire);
    if !unlisted(&exact) {
        return exact;
    }
    let folded = T::from_wire(&wire.trim().to_ascii_lowercase().replace('_', "-"));
    if !unlisted(&folded) {
        return folded;
    }
    let folded = T::from_wire(&wire.trim().to_ascii_lowercase().replace('-', "_"));
    if !unlisted(&folded) {
        return folded;
    }
    exact
}

pub(crate) fn profile_status(wire: &str) -> CustomerProfileStatus {
    lenient(wire, |s| matches!(s, CustomerProfileStatus::Unlisted(_)))
}

pub(crate) fn trust_product_status(wire: &str) -> TrustProductStatus {
    lenient(wire, |s| matches!(s, TrustProductStatus::Unlisted(_)))
}

macro_rules! open_status {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not list, kept as received.
            Unlisted(String),
        }

        impl StringEnum for $name {
            fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unlisted(value) => value,
                }
            }
            fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unlisted(other.to_owned()),
                }
            }
        }

        impl $name {
            /// The value on the wire (lower case, `_` between words).
            pub fn as_str(&self) -> &str {
                StringEnum::as_str(self)
            }

            /// Reads a wire value, ignoring case and `-`/`_` (`REGISTRATION-FAILED` is
            /// `registration_failed`); anything else is kept in `Unlisted`.
            pub fn from_wire(value: &str) -> Self {
                lenient(value, |s| matches!(s, Self::Unlisted(_)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_status! {
    /// The status of an A2P brand registration in Event Streams' `brandstatus`.
    ///
    /// ```
    /// use trusthub::webhook::BrandStatus;
    ///
    /// assert_eq!(BrandStatus::from_wire("registration_failed"), BrandStatus::RegistrationFailed);
    /// assert_eq!(BrandStatus::from_wire("REGISTERED"), BrandStatus::Registered);
    /// assert_eq!(BrandStatus::from_wire("suspended").as_str(), "suspended");
    /// ```
    BrandStatus {
        /// `pending`: submitted, not decided.
        Pending => "pending",
        /// `registered`: registered with The Campaign Registry.
        Registered => "registered",
        /// `unverified`: registered, identity not verified.
        Unverified => "unverified",
        /// `registration_failed`: refused; see the event's failures.
        RegistrationFailed => "registration_failed",
    }
}

open_status! {
    /// The status of an A2P campaign in Event Streams' `campaignstatus`.
    ///
    /// ```
    /// use trusthub::webhook::CampaignStatus;
    ///
    /// assert_eq!(CampaignStatus::from_wire("VERIFIED"), CampaignStatus::Verified);
    /// assert!(CampaignStatus::from_wire("approved").is_approved());
    /// assert_eq!(CampaignStatus::from_wire("in-progress"), CampaignStatus::InProgress);
    /// ```
    CampaignStatus {
        /// `pending`: submitted.
        Pending => "pending",
        /// `in_progress`: under review.
        InProgress => "in_progress",
        /// `approved`: approved (the event `campaign-approved`).
        Approved => "approved",
        /// `verified`: approved, as the Messaging API writes it (`VERIFIED`).
        Verified => "verified",
        /// `failed`: refused; see the event's failures.
        Failed => "failed",
    }
}

impl CampaignStatus {
    /// Approved, whichever spelling Twilio used (`approved`, `VERIFIED`).
    pub fn is_approved(&self) -> bool {
        matches!(self, CampaignStatus::Approved | CampaignStatus::Verified)
    }
}

/// What a bundle (`BU…`) is: Twilio's status callback does not say, since customer profiles and
/// trust products share the prefix and the callback. Answered by the closure given to
/// [`Webhook::bundle_kind`](super::Webhook::bundle_kind) (e.g. a lookup in your records, or in a
/// flow's journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundleKind {
    /// A customer profile (`/v1/CustomerProfiles`).
    CustomerProfile,
    /// A trust product (`/v1/TrustProducts`).
    TrustProduct,
    /// Not known: the event is a [`Change::Bundle`].
    Unknown,
}

/// The kind of thing whose status changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A bundle of unknown kind.
    Bundle,
    /// A customer profile.
    CustomerProfile,
    /// A trust product.
    TrustProduct,
    /// An A2P brand registration.
    Brand,
    /// An A2P campaign.
    Campaign,
}

/// A status change: what changed, its new status and the one recorded before.
///
/// `previous` is the status the webhook's store recorded for this SID before this event (`None`
/// the first time it sees the SID); for a [stale](Event::stale) event, the newer status that
/// stays recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A bundle whose kind the webhook was not told ([`BundleKind::Unknown`]). Customer profiles
    /// and trust products share their statuses: the status is read as a customer profile's
    /// (`TrustProductStatus::from_wire(status.as_str())` reads it as the other).
    Bundle {
        /// The bundle.
        sid: ObjectSid,
        /// Its new status.
        status: CustomerProfileStatus,
        /// The status recorded before.
        previous: Option<CustomerProfileStatus>,
    },
    /// A customer profile.
    CustomerProfile {
        /// The profile.
        sid: CustomerProfileSid,
        /// Its new status.
        status: CustomerProfileStatus,
        /// The status recorded before.
        previous: Option<CustomerProfileStatus>,
    },
    /// A trust product.
    TrustProduct {
        /// The trust product.
        sid: TrustProductSid,
        /// Its new status.
        status: TrustProductStatus,
        /// The status recorded before.
        previous: Option<TrustProductStatus>,
    },
    /// An A2P brand registration.
    Brand {
        /// The brand.
        sid: BrandRegistrationSid,
        /// Its new status.
        status: BrandStatus,
        /// The status recorded before.
        previous: Option<BrandStatus>,
        /// The brand's id at The Campaign Registry (`externalbrandid`), when sent.
        external_brand_id: Option<String>,
    },
    /// An A2P campaign.
    Campaign {
        /// The campaign.
        sid: UsAppToPersonSid,
        /// Its new status.
        status: CampaignStatus,
        /// The status recorded before.
        previous: Option<CampaignStatus>,
        /// Its brand (`brandsid`), when sent.
        brand_sid: Option<BrandRegistrationSid>,
        /// Its Messaging Service (`messagingservicesid`), when sent.
        messaging_service_sid: Option<MessagingServiceSid>,
    },
}

impl Change {
    /// What changed, as any SID (for journals and logs: `trusthub::watch::record_event`).
    pub fn sid(&self) -> ObjectSid {
        match self {
            Change::Bundle { sid, .. } => *sid,
            Change::CustomerProfile { sid, .. } => (*sid).into(),
            Change::TrustProduct { sid, .. } => (*sid).into(),
            Change::Brand { sid, .. } => (*sid).into(),
            Change::Campaign { sid, .. } => (*sid).into(),
        }
    }

    /// The kind of thing that changed.
    pub fn kind(&self) -> Kind {
        match self {
            Change::Bundle { .. } => Kind::Bundle,
            Change::CustomerProfile { .. } => Kind::CustomerProfile,
            Change::TrustProduct { .. } => Kind::TrustProduct,
            Change::Brand { .. } => Kind::Brand,
            Change::Campaign { .. } => Kind::Campaign,
        }
    }

    /// The new status, as on the wire.
    pub fn status(&self) -> &str {
        match self {
            Change::Bundle { status, .. } | Change::CustomerProfile { status, .. } => {
                status.as_str()
            }
            Change::TrustProduct { status, .. } => status.as_str(),
            Change::Brand { status, .. } => status.as_str(),
            Change::Campaign { status, .. } => status.as_str(),
        }
    }

    /// The status recorded before, as on the wire.
    pub fn previous_status(&self) -> Option<&str> {
        match self {
            Change::Bundle { previous, .. } | Change::CustomerProfile { previous, .. } => {
                previous.as_ref().map(CustomerProfileStatus::as_str)
            }
            Change::TrustProduct { previous, .. } => {
                previous.as_ref().map(TrustProductStatus::as_str)
            }
            Change::Brand { previous, .. } => previous.as_ref().map(BrandStatus::as_str),
            Change::Campaign { previous, .. } => previous.as_ref().map(CampaignStatus::as_str),
        }
    }
}

/// Why Twilio refused something, as an event says: a bundle's `FailureReason`, or one item of a
/// brand's or campaign's registration errors. Texts are made printable (control characters
/// escaped).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Failure {
    /// Twilio's error code (`registrationerrorcode`), e.g. 21736.
    pub code: Option<u32>,
    /// What is wrong (`registrationerrordescription`, or a bundle's `FailureReason`).
    pub description: Option<String>,
    /// Where Twilio documents the error (`registrationerrorurl`).
    pub url: Option<String>,
    /// The fields at fault (`registrationerrorfields`), e.g. `brand_contact_email`.
    pub fields: Vec<String>,
}

impl Failure {
    pub(crate) fn text(description: &str) -> Self {
        Failure {
            description: Some(printable(description).into_owned()),
            ..Failure::default()
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(code) = self.code {
            write!(f, "{code}")?;
            sep = ": ";
        }
        if let Some(description) = &self.description {
            write!(f, "{sep}{description}")?;
            sep = " ";
        }
        if !self.fields.is_empty() {
            write!(f, "{sep}({})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// One status change Twilio reported, verified, handed over once.
///
/// ```
/// use trusthub::webhook::{Change, Event};
///
/// fn on_event(event: &Event) {
///     match &event.change {
///         Change::CustomerProfile { sid, status, previous } if !event.stale => {
///             println!("{sid}: {previous:?} -> {status}");
///         }
///         Change::Brand { sid, status, .. } => {
///             println!("brand {sid} is {status}");
///             for failure in &event.failures {
///                 println!("  {failure}");
///             }
///         }
///         other => println!("{} is {}", other.sid(), other.status()),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// What changed, to what, from what.
    pub change: Change,
    /// Why it failed, when it did (empty otherwise).
    pub failures: Vec<Failure>,
    /// The account it belongs to, when the event says.
    pub account_sid: Option<AccountSid>,
    /// The event's id: the CloudEvent `id`, or a bundle callback's `I-Twilio-Idempotency-Token`
    /// (the same for every delivery of one event); `None` when the delivery had none (then it is
    /// not deduplicated).
    pub id: Option<String>,
    /// The CloudEvent `type` (e.g. `com.twilio.messaging.compliance.brand-registration.brand-failure`);
    /// `None` for a bundle callback.
    pub event_type: Option<String>,
    /// When the status changed, as Twilio says (`updateddate`, or the CloudEvent `time`); `None`
    /// for a bundle callback, which carries no time.
    pub time: Option<OffsetDateTime>,
    /// When the delivery arrived.
    pub received_at: OffsetDateTime,
    /// The event is older than the status already recorded for its SID (it arrived out of
    /// order): it is handed over once all the same, but changed nothing recorded, and
    /// `previous` in [`Change`] is the newer status. Only events that carry a time can be
    /// stale; bundle callbacks are ordered by arrival.
    pub stale: bool,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is now {}", self.change.sid(), self.change.status())?;
        if let Some(previous) = self.change.previous_status() {
            write!(f, " (was {previous})")?;
        }
        if self.stale {
            f.write_str(" [stale]")?;
        }
        for failure in &self.failures {
            write!(f, "; {failure}")?;
        }
        Ok(())
    }
}
