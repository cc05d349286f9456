//! Typed Twilio SIDs.
//!
//! A Twilio SID is 34 ASCII characters: a two-letter prefix naming the kind of
//! resource (`BU` for a customer profile, `RN` for a policy, ...) followed by 32
//! hexadecimal digits. Every kind the Trust Hub flow touches has its own type here,
//! all made by one private macro (`def_sid!`, modelled on async-stripe's `def_id!`), so
//! that a policy SID cannot be passed where a customer profile SID is expected.
//!
//! Every SID type:
//! - validates its pattern (e.g. `^BU[0-9a-fA-F]{32}$`) in [`FromStr`], `TryFrom<&str>`,
//!   `TryFrom<String>` and serde `Deserialize`, failing with a [`SidError`] that names the
//!   kind, the expected pattern and what is wrong (length, prefix or the first non-hex
//!   character's position);
//! - gives the string back through [`Display`](fmt::Display), `Serialize`, `AsRef<str>`
//!   and `as_str()`, exactly as it was given (hex digits keep their case);
//! - is stored inline as `[u8; 34]`: `Copy`, `Eq`, `Hash`, `Ord`, no allocation;
//! - converts into the generic [`ObjectSid`] with `From`.
//!
//! SIDs are not personal data: they may appear in logs and error messages.
//!
//! ```
//! use trusthub_runtime::sid::{CustomerProfileSid, ObjectSid, SidProblem};
//!
//! let sid: CustomerProfileSid = "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
//! assert_eq!(sid.as_str(), "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
//! let object: ObjectSid = sid.into();
//! assert_eq!(object.prefix(), "BU");
//!
//! let err = "RNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse::<CustomerProfileSid>().unwrap_err();
//! assert_eq!(err.problem(), &SidProblem::Prefix { found: "RN".into() });
//! # Ok::<(), trusthub_runtime::sid::SidError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Length of every Twilio SID, in bytes (all characters are ASCII).
pub const SID_LEN: usize = 34;

/// What a SID's first two characters must be.
#[derive(Clone, Copy)]
enum PrefixRule {
    /// Exactly these two bytes (case-sensitive).
    Exact([u8; 2]),
    /// Any two ASCII letters (the generic `ObjectSid` pattern).
    Letters,
    /// One of these exact prefixes.
    OneOf(&'static [[u8; 2]]),
}

/// A failed check, in byte offsets; turned into a [`SidProblem`] for the caller.
#[derive(Clone, Copy)]
enum RawProblem {
    Length,
    Prefix,
    NotHex { byte_index: usize },
}

/// The one implementation of the SID rule, usable in `const` context.
const fn check(bytes: &[u8], rule: PrefixRule) -> Result<[u8; SID_LEN], RawProblem> {
    if bytes.len() != SID_LEN {
        return Err(RawProblem::Length);
    }
    let prefix_ok = match rule {
        PrefixRule::Exact(p) => bytes[0] == p[0] && bytes[1] == p[1],
        PrefixRule::Letters => bytes[0].is_ascii_alphabetic() && bytes[1].is_ascii_alphabetic(),
        PrefixRule::OneOf(list) => {
            let mut found = false;
            let mut i = 0;
            while i < list.len() {
                if bytes[0] == list[i][0] && bytes[1] == list[i][1] {
                    found = true;
                }
                i += 1;
            }
            found
        }
    };
    if !prefix_ok {
        return Err(RawProblem::Prefix);
    }
    let mut out = [0u8; SID_LEN];
    out[0] = bytes[0];
    out[1] = bytes[1];
    let mut i = 2;
    while i < SID_LEN {
        if !bytes[i].is_ascii_hexdigit() {
            return Err(RawProblem::NotHex { byte_index: i });
        }
        out[i] = bytes[i];
        i += 1;
    }
    Ok(out)
}

/// Parses `s` under `rule`, describing a failure for the SID kind `kind`.
fn parse_with(
    s: &str,
    rule: PrefixRule,
    kind: &'static str,
    pattern: &'static str,
) -> Result<[u8; SID_LEN], SidError> {
    check(s.as_bytes(), rule).map_err(|raw| {
        let problem = match raw {
            // 34 characters but more bytes: the first non-ASCII character is the problem.
            RawProblem::Length if s.chars().count() == SID_LEN => {
                match s.chars().position(|c| !c.is_ascii()) {
                    Some(position) if position < 2 => SidProblem::Prefix {
                        found: s.chars().take(2).collect(),
                    },
                    Some(position) => SidProblem::NotHex {
                        position,
                        found: s
                            .chars()
                            .nth(position)
                            .unwrap_or(char::REPLACEMENT_CHARACTER),
                    },
                    None => SidProblem::Length { found: SID_LEN },
                }
            }
            RawProblem::Length => SidProblem::Length {
                found: s.chars().count(),
            },
            RawProblem::Prefix => SidProblem::Prefix {
                found: s.chars().take(2).collect(),
            },
            RawProblem::NotHex { byte_index } => {
                // The input has 34 bytes; it may still hold multi-byte characters.
                // Report the character index and the character itself.
                let mut position = 0;
                let mut found = char::REPLACEMENT_CHARACTER;
                for (index, (offset, c)) in s.char_indices().enumerate() {
                    if offset + c.len_utf8() > byte_index {
                        position = index;
                        found = c;
                        break;
                    }
                }
                SidProblem::NotHex { position, found }
            }
        };
        SidError {
            kind,
            pattern,
            problem,
        }
    })
}

/// Borrows validated SID bytes as `&str` (they are always ASCII).
const fn bytes_as_str(bytes: &[u8; SID_LEN]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => panic!("a validated SID is always ASCII"),
    }
}

/// What is wrong with a string that was meant to be a SID.
///
/// ```
/// use trusthub_runtime::sid::{PolicySid, SidProblem};
///
/// let problem = |s: &str| s.parse::<PolicySid>().unwrap_err().problem().clone();
/// assert_eq!(problem("RN123"), SidProblem::Length { found: 5 });
/// assert_eq!(
///     problem("BUdfbf3fae0e1107f8aded0e7cead80bf5"),
///     SidProblem::Prefix { found: "BU".into() }
/// );
/// assert_eq!(
///     problem("RNdfbf3fae0e1107f8aded0e7cead80bfZ"),
///     SidProblem::NotHex { position: 33, found: 'Z' }
/// );
/// assert_eq!(
///     SidProblem::NotHex { position: 33, found: 'Z' }.to_string(),
///     "character 'Z' at position 33 (0-based) is not a hexadecimal digit"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SidProblem {
    /// The string does not have 34 characters.
    Length {
        /// How many characters it has.
        found: usize,
    },
    /// The first two characters are not the expected prefix.
    Prefix {
        /// The first two characters found (fewer if the string is shorter).
        found: String,
    },
    /// A character after the prefix is not a hexadecimal digit.
    NotHex {
        /// 0-based character index of the first offending character.
        position: usize,
        /// The offending character.
        found: char,
    },
}

impl fmt::Display for SidProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SidProblem::Length { found } => {
                write!(f, "found {found} characters, expected {SID_LEN}")
            }
            SidProblem::Prefix { found } => write!(f, "found prefix {found:?}"),
            SidProblem::NotHex { position, found } => write!(
                f,
                "character {found:?} at position {position} (0-based) is not a hexadecimal digit"
            ),
        }
    }
}

/// A string did not match a SID pattern.
///
/// Names the SID kind (e.g. `CustomerProfileSid`), the expected pattern
/// (e.g. `^BU[0-9a-fA-F]{32}$`) and the [`SidProblem`].
///
/// ```
/// use trusthub_runtime::sid::{PolicySid, SidProblem};
///
/// let err = "RNdfbf3fae0e1107f8aded0e7cead80bf".parse::<PolicySid>().unwrap_err();
/// assert_eq!(err.kind(), "PolicySid");
/// assert_eq!(err.pattern(), PolicySid::PATTERN);
/// assert_eq!(err.problem(), &SidProblem::Length { found: 33 });
/// assert_eq!(
///     err.to_string(),
///     "invalid PolicySid: found 33 characters, expected 34; \
///      expected 34 characters matching ^RN[0-9a-fA-F]{32}$"
/// );
///
/// // Deserializing checks the same way.
/// let json = serde_json::from_str::<PolicySid>(r#""BUdfbf3fae0e1107f8aded0e7cead80bf5""#);
/// assert!(json.unwrap_err().to_string().contains(r#"invalid PolicySid: found prefix "BU""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidError {
    kind: &'static str,
    pattern: &'static str,
    problem: SidProblem,
}

impl SidError {
    /// The Rust type name of the SID kind that was expected, e.g. `"PolicySid"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The pattern the string had to match, e.g. `"^RN[0-9a-fA-F]{32}$"`.
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// What is wrong with the string.
    pub fn problem(&self) -> &SidProblem {
        &self.problem
    }
}

impl fmt::Display for SidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}: {}; expected 34 characters matching {}",
            self.kind, self.problem, self.pattern
        )
    }
}

impl std::error::Error for SidError {}

/// Serde visitor shared by every SID type: accepts a string and runs its `FromStr`.
struct SidVisitor<T>(std::marker::PhantomData<T>, &'static str);

impl<T> Visitor<'_> for SidVisitor<T>
where
    T: FromStr<Err = SidError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string matching {}", self.1)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

/// What a generated call accepts where the API takes a SID of kind `T`: the typed SID (or a
/// reference to it), any specific SID where the API takes an [`ObjectSid`], or a string, which is
/// checked when the request is built, before anything is sent.
///
/// ```
/// use trusthub_runtime::sid::{CustomerProfileSid, IntoSid, ObjectSid};
///
/// let sid = CustomerProfileSid::from_static("BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
/// assert_eq!(IntoSid::<CustomerProfileSid>::into_sid(&sid), Ok(sid));
/// let object: ObjectSid = sid.into_sid()?;
/// assert_eq!(object.prefix(), "BU");
/// let from_text: Result<CustomerProfileSid, _> = "BU123".into_sid();
/// assert!(from_text.is_err());
/// # Ok::<(), trusthub_runtime::sid::SidError>(())
/// ```
pub trait IntoSid<T> {
    /// The SID, or what is wrong with the string that was meant to be one.
    fn into_sid(self) -> Result<T, SidError>;
}

/// Reads an optional SID field of an answer leniently: absent, `null` and `""` are `None`; any
/// other string must be a SID of kind `T`, else the answer fails to decode naming the field.
///
/// ```
/// use trusthub_runtime::sid::{self, PolicySid};
///
/// #[derive(serde::Deserialize)]
/// struct Answer {
///     #[serde(default, deserialize_with = "sid::option_lenient")]
///     policy_sid: Option<PolicySid>,
/// }
/// let empty: Answer = serde_json::from_str(r#"{"policy_sid": ""}"#)?;
/// assert_eq!(empty.policy_sid, None);
/// let bad = serde_json::from_str::<Answer>(r#"{"policy_sid": "BU1"}"#);
/// assert!(bad.is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn option_lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = SidError>,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => text.parse().map(Some).map_err(de::Error::custom),
    }
}

/// Defines one SID newtype. `def_sid!(Name, "XX", "what it identifies")` for a fixed
/// prefix; the `@rule` form is shared with [`ObjectSid`].
macro_rules! def_sid {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        def_sid!(
            @rule $(#[$meta])*
            ///
            /// ```
            #[doc = concat!("use trusthub_runtime::sid::{", stringify!($name), ", ObjectSid};")]
            ///
            #[doc = concat!("let sid: ", stringify!($name), " = \"", $prefix, "0123456789abcdef0123456789ABCDEF\".parse()?;")]
            #[doc = concat!("assert_eq!(sid.as_str(), \"", $prefix, "0123456789abcdef0123456789ABCDEF\");")]
            #[doc = concat!("assert_eq!(ObjectSid::from(sid).prefix(), \"", $prefix, "\");")]
            #[doc = concat!("let error = \"", $prefix, "123\".parse::<", stringify!($name), ">().unwrap_err();")]
            #[doc = concat!("assert!(error.to_string().contains(\"^", $prefix, "[0-9a-fA-F]{32}$\"));")]
            #[doc = concat!("assert!(\"ZZ0123456789abcdef0123456789abcdef\".parse::<", stringify!($name), ">().is_err());")]
            /// # Ok::<(), trusthub_runtime::sid::SidError>(())
            /// ```
            $name,
            PrefixRule::Exact(prefix_bytes($prefix)),
            concat!("^", $prefix, "[0-9a-fA-F]{32}$")
        );

        impl $name {
            /// The two-letter prefix every SID of this kind starts with.
            pub const PREFIX: &'static str = $prefix;
        }

        impl From<$name> for ObjectSid {
            fn from(sid: $name) -> ObjectSid {
                ObjectSid(sid.0)
            }
        }

        impl TryFrom<ObjectSid> for $name {
            type Error = SidError;

            fn try_from(sid: ObjectSid) -> Result<Self, SidError> {
                sid.as_str().parse()
            }
        }

        impl IntoSid<ObjectSid> for $name {
            fn into_sid(self) -> Result<ObjectSid, SidError> {
                Ok(self.into())
            }
        }

        impl IntoSid<ObjectSid> for &$name {
            fn into_sid(self) -> Result<ObjectSid, SidError> {
                Ok((*self).into())
            }
        }
    };
    (@rule $(#[$meta:meta])* $name:ident, $rule:expr, $pattern:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; SID_LEN]);

        impl $name {
            /// The pattern every SID of this kind matches.
            pub const PATTERN: &'static str = $pattern;

            /// Builds a SID from a literal at compile time.
            ///
            /// # Panics
            ///
            /// Panics (at compile time when used in a `const`) if `s` does not match
            /// [`Self::PATTERN`]. Use [`FromStr`] for strings that come from outside.
            pub const fn from_static(s: &'static str) -> Self {
                match check(s.as_bytes(), $rule) {
                    Ok(bytes) => Self(bytes),
                    Err(_) => panic!(concat!("invalid ", stringify!($name), " literal")),
                }
            }

            /// The SID as a string slice, exactly as it was given.
            pub const fn as_str(&self) -> &str {
                bytes_as_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = SidError;

            fn from_str(s: &str) -> Result<Self, SidError> {
                parse_with(s, $rule, stringify!($name), Self::PATTERN).map(Self)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = SidError;

            fn try_from(s: &str) -> Result<Self, SidError> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = SidError;

            fn try_from(s: String) -> Result<Self, SidError> {
                s.parse()
            }
        }

        impl TryFrom<&String> for $name {
            type Error = SidError;

            fn try_from(s: &String) -> Result<Self, SidError> {
                s.parse()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl IntoSid<$name> for $name {
            fn into_sid(self) -> Result<$name, SidError> {
                Ok(self)
            }
        }

        impl IntoSid<$name> for &$name {
            fn into_sid(self) -> Result<$name, SidError> {
                Ok(*self)
            }
        }

        impl IntoSid<$name> for &str {
            fn into_sid(self) -> Result<$name, SidError> {
                self.parse()
            }
        }

        impl IntoSid<$name> for String {
            fn into_sid(self) -> Result<$name, SidError> {
                self.parse()
            }
        }

        impl IntoSid<$name> for &String {
            fn into_sid(self) -> Result<$name, SidError> {
                self.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl From<$name> for String {
            fn from(sid: $name) -> String {
                sid.as_str().to_owned()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(SidVisitor::<Self>(
                    std::marker::PhantomData,
                    Self::PATTERN,
                ))
            }
        }
    };
}

/// The two bytes of a prefix literal (checked at compile time).
const fn prefix_bytes(prefix: &'static str) -> [u8; 2] {
    let b = prefix.as_bytes();
    assert!(
        b.len() == 2 && b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase(),
        "a SID prefix is two upper-case ASCII letters"
    );
    [b[0], b[1]]
}

def_sid!(
    @rule
    /// Any Twilio SID: two ASCII letters then 32 hex digits
    /// (`^[a-zA-Z]{2}[0-9a-fA-F]{32}$`), as taken by `ObjectSid` and `ChannelEndpointSid`
    /// parameters. Every specific SID type converts into it with `From`, and back with
    /// `TryFrom` (which checks the prefix).
    ObjectSid,
    PrefixRule::Letters,
    "^[a-zA-Z]{2}[0-9a-fA-F]{32}$"
);

impl ObjectSid {
    /// The two-letter prefix naming the kind of resource, e.g. `"IT"`.
    pub fn prefix(&self) -> &str {
        &self.as_str()[..2]
    }
}

def_sid!(
    /// SID of a Twilio account (`AC...`).
    AccountSid,
    "AC"
);
def_sid!(
    /// SID of a Trust Hub customer profile bundle (`BU...`), primary or secondary.
    CustomerProfileSid,
    "BU"
);
def_sid!(
    /// SID of a Trust Hub trust product bundle (`BU...`, e.g. an A2P or SHAKEN/STIR
    /// trust product).
    ///
    /// Trust products and customer profiles share the `BU` prefix, so Twilio's string
    /// cannot tell them apart. This is a separate type rather than an alias of
    /// [`CustomerProfileSid`] because they address different endpoints
    /// (`/v1/TrustProducts` vs `/v1/CustomerProfiles`); converting one into the other
    /// is deliberate: `TrustProductSid::try_from(ObjectSid::from(profile_sid))`.
    TrustProductSid,
    "BU"
);
def_sid!(
    /// SID of a Trust Hub policy, also called a regulation (`RN...`).
    /// See [`policies`] for the well-known ones.
    PolicySid,
    "RN"
);
def_sid!(
    /// SID of a Trust Hub end user (`IT...`): business information or an authorized
    /// representative.
    EndUserSid,
    "IT"
);
def_sid!(
    /// SID of a Trust Hub supporting document (`RD...`), e.g. `customer_profile_address`.
    SupportingDocumentSid,
    "RD"
);
def_sid!(
    /// SID of an entity assignment of a customer profile (`BV...`).
    EntityAssignmentSid,
    "BV"
);
def_sid!(
    /// SID of a channel endpoint assignment of a customer profile (`RA...`).
    ChannelEndpointAssignmentSid,
    "RA"
);
def_sid!(
    /// SID of a customer profile evaluation (`EL...`).
    EvaluationSid,
    "EL"
);
def_sid!(
    /// SID of an address of the 2010 API (`AD...`).
    AddressSid,
    "AD"
);
def_sid!(
    /// SID of an incoming phone number (`PN...`), a channel endpoint.
    PhoneNumberSid,
    "PN"
);
def_sid!(
    /// SID of an API key (`SK...`), usable instead of the account SID for authentication.
    ApiKeySid,
    "SK"
);
def_sid!(
    /// SID of a regulatory compliance bundle (`BU...`) of the numbers API, as an incoming
    /// phone number's `bundle_sid`. Shares the `BU` prefix with [`CustomerProfileSid`] and
    /// [`TrustProductSid`] but names neither.
    BundleSid,
    "BU"
);
def_sid!(
    /// SID of a TwiML application (`AP...`), as an incoming phone number's voice or SMS
    /// application.
    ApplicationSid,
    "AP"
);
def_sid!(
    /// SID of an identity (`RI...`) of the 2010 API, as an incoming phone number's
    /// `identity_sid`.
    IdentitySid,
    "RI"
);
def_sid!(
    /// SID of an Elastic SIP trunk (`TK...`), as an incoming phone number's `trunk_sid`.
    TrunkSid,
    "TK"
);
def_sid!(
    /// SID of an A2P 10DLC brand registration (`BN...`) of the messaging API.
    BrandRegistrationSid,
    "BN"
);
def_sid!(
    /// SID of a Messaging Service (`MG...`).
    MessagingServiceSid,
    "MG"
);
def_sid!(
    /// SID of a US A2P 10DLC campaign (`QE...`): a `Compliance/Usa2p` resource of a Messaging
    /// Service, or a campaign registered elsewhere (`PreregisteredUsa2p`).
    UsAppToPersonSid,
    "QE"
);
def_sid!(
    /// SID of an end user type (`OY...`), e.g. `customer_profile_business_information`.
    EndUserTypeSid,
    "OY"
);
def_sid!(
    /// SID of a supporting document type (`OY...`), e.g. `customer_profile_address`.
    SupportingDocumentTypeSid,
    "OY"
);

/// Well-known Trust Hub policy (regulation) SIDs, the same in every account.
pub mod policies {
    use super::PolicySid;

    /// Secondary Customer Profile of type business: the policy of the seed flow.
    pub const SECONDARY_CUSTOMER_PROFILE: PolicySid =
        PolicySid::from_static("RNdfbf3fae0e1107f8aded0e7cead80bf5");
    /// Primary business profile (the ISV's own, approved in the Console).
    pub const PRIMARY_BUSINESS_PROFILE: PolicySid =
        PolicySid::from_static("RN6433641899984f951173ef1738c3bdd0");
    /// ISV Starter profile.
    pub const ISV_STARTER_PROFILE: PolicySid =
        PolicySid::from_static("RN806dd6cd175f314e1f96a9727ee271f4");
    /// A2P 10DLC messaging trust product.
    pub const A2P_TRUST_PRODUCT: PolicySid =
        PolicySid::from_static("RNb0d4771c2c98518d916a3d4cd70a8f8b");
    /// SHAKEN/STIR trust product.
    pub const SHAKEN_STIR: PolicySid = PolicySid::from_static("RN7a97559effdf62d00f4298208492a5ea");
    /// CNAM trust product.
    pub const CNAM: PolicySid = PolicySid::from_static("RNf3db3cd1fe25fcfd3c3ded065c8fea53");
}

/// A SID that may be assigned to a customer profile as an entity
/// (`POST /v1/CustomerProfiles/{sid}/EntityAssignments`, `ObjectSid`):
/// an end user (`IT`), a supporting document (`RD`), an address (`AD`) or another
/// customer profile (`BU`, e.g. the primary profile).
///
/// Parsing dispatches on the prefix; any other prefix is a [`SidError`] of kind
/// `AssignableSid`.
///
/// ```
/// use trusthub_runtime::sid::{AssignableSid, EndUserSid, ObjectSid, SupportingDocumentSid};
///
/// let sid: AssignableSid = "IT0123456789abcdef0123456789abcdef".parse()?;
/// assert_eq!(
///     sid,
///     AssignableSid::EndUser(EndUserSid::from_static("IT0123456789abcdef0123456789abcdef"))
/// );
/// let object: ObjectSid = sid.into();
/// assert_eq!(object.prefix(), "IT");
///
/// let document = SupportingDocumentSid::from_static("RD0123456789abcdef0123456789abcdef");
/// assert_eq!(AssignableSid::from(document).as_str(), document.as_str());
///
/// // Phone numbers are assigned as channel endpoints, not as entities.
/// let err = "PN0123456789abcdef0123456789abcdef".parse::<AssignableSid>().unwrap_err();
/// assert_eq!(err.kind(), "AssignableSid");
/// assert_eq!(err.pattern(), "^(IT|RD|AD|BU)[0-9a-fA-F]{32}$");
/// # Ok::<(), trusthub_runtime::sid::SidError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssignableSid {
    /// Business information or an authorized representative.
    EndUser(EndUserSid),
    /// A supporting document, e.g. the `customer_profile_address` document.
    SupportingDocument(SupportingDocumentSid),
    /// An address of the 2010 API.
    Address(AddressSid),
    /// Another customer profile, e.g. the primary profile of the ISV.
    CustomerProfile(CustomerProfileSid),
}

/// Prefixes an [`AssignableSid`] accepts.
const ASSIGNABLE_PREFIXES: &[[u8; 2]] = &[*b"IT", *b"RD", *b"AD", *b"BU"];

impl AssignableSid {
    /// The pattern an assignable SID matches.
    pub const PATTERN: &'static str = "^(IT|RD|AD|BU)[0-9a-fA-F]{32}$";

    /// The SID as a string slice.
    pub const fn as_str(&self) -> &str {
        match self {
            AssignableSid::EndUser(s) => s.as_str(),
            AssignableSid::SupportingDocument(s) => s.as_str(),
            AssignableSid::Address(s) => s.as_str(),
            AssignableSid::CustomerProfile(s) => s.as_str(),
        }
    }

    /// The generic form of this SID.
    pub fn to_object_sid(self) -> ObjectSid {
        self.into()
    }
}

impl FromStr for AssignableSid {
    type Err = SidError;

    fn from_str(s: &str) -> Result<Self, SidError> {
        let bytes = parse_with(
            s,
            PrefixRule::OneOf(ASSIGNABLE_PREFIXES),
            "AssignableSid",
            Self::PATTERN,
        )?;
        Ok(match &bytes[..2] {
            b"IT" => AssignableSid::EndUser(EndUserSid(bytes)),
            b"RD" => AssignableSid::SupportingDocument(SupportingDocumentSid(bytes)),
            b"AD" => AssignableSid::Address(AddressSid(bytes)),
            _ => AssignableSid::CustomerProfile(CustomerProfileSid(bytes)),
        })
    }
}

impl TryFrom<&str> for AssignableSid {
    type Error = SidError;

    fn try_from(s: &str) -> Result<Self, SidError> {
        s.parse()
    }
}

impl TryFrom<String> for AssignableSid {
    type Error = SidError;

    fn try_from(s: String) -> Result<Self, SidError> {
        s.parse()
    }
}

impl TryFrom<ObjectSid> for AssignableSid {
    type Error = SidError;

    fn try_from(sid: ObjectSid) -> Result<Self, SidError> {
        sid.as_str().parse()
    }
}

impl From<EndUserSid> for AssignableSid {
    fn from(sid: EndUserSid) -> Self {
        AssignableSid::EndUser(sid)
    }
}

impl From<SupportingDocumentSid> for AssignableSid {
    fn from(sid: SupportingDocumentSid) -> Self {
        AssignableSid::SupportingDocument(sid)
    }
}

impl From<AddressSid> for AssignableSid {
    fn from(sid: AddressSid) -> Self {
        AssignableSid::Address(sid)
    }
}

impl From<CustomerProfileSid> for AssignableSid {
    fn from(sid: CustomerProfileSid) -> Self {
        AssignableSid::CustomerProfile(sid)
    }
}

impl From<AssignableSid> for ObjectSid {
    fn from(sid: AssignableSid) -> ObjectSid {
        match sid {
            AssignableSid::EndUser(s) => s.into(),
            AssignableSid::SupportingDocument(s) => s.into(),
            AssignableSid::Address(s) => s.into(),
            AssignableSid::CustomerProfile(s) => s.into(),
        }
    }
}

impl IntoSid<ObjectSid> for AssignableSid {
    fn into_sid(self) -> Result<ObjectSid, SidError> {
        Ok(self.into())
    }
}

impl IntoSid<ObjectSid> for &AssignableSid {
    fn into_sid(self) -> Result<ObjectSid, SidError> {
        Ok((*self).into())
    }
}

impl AsRef<str> for AssignableSid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for AssignableSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AssignableSid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AssignableSid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(SidVisitor::<Self>(std::marker::PhantomData, Self::PATTERN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_input_reports_character_position() {
        // 'é' is two bytes: 2 + 30 + 2 = 34 bytes but 33 characters.
        let s = format!("BU{}é", "a".repeat(30));
        assert_eq!(s.len(), SID_LEN);
        let err = s.parse::<CustomerProfileSid>().unwrap_err();
        assert_eq!(
            err.problem(),
            &SidProblem::NotHex {
                position: 32,
                found: 'é'
            }
        );
    }

    #[test]
    fn policy_constants_are_policy_sids() {
        for p in [
            policies::SECONDARY_CUSTOMER_PROFILE,
            policies::PRIMARY_BUSINESS_PROFILE,
            policies::ISV_STARTER_PROFILE,
            policies::A2P_TRUST_PRODUCT,
            policies::SHAKEN_STIR,
            policies::CNAM,
        ] {
            assert_eq!(p.as_str().parse::<PolicySid>(), Ok(p));
        }
        assert_eq!(
            policies::SECONDARY_CUSTOMER_PROFILE.as_str(),
            "RNdfbf3fae0e1107f8aded0e7cead80bf5"
        );
    }
}
