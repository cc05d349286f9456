//! The A2P Messaging Profile's end user: an EndUser of type
//! `us_a2p_messaging_profile_information`, assigned to the A2P trust product of the A2P 10DLC
//! journey ([`crate::flow::a2p`]).

use std::fmt;

use serde_json::{Map, Value};

use super::validation::{ProblemKind, Validate, ValidationReport, MAX_EMAIL_CHARS};
use super::wire_enum::wire_enum;
use super::RedactedOption;

wire_enum! {
    /// `company_type` of the A2P Messaging Profile: decides what The Campaign Registry checks.
    ///
    /// ```
    /// use trusthub::attributes::CompanyType;
    ///
    /// assert_eq!(CompanyType::NonProfit.as_str(), "non-profit");
    /// assert_eq!("public".parse::<CompanyType>()?, CompanyType::Public);
    /// # Ok::<(), trusthub::attributes::UnknownValueError>(())
    /// ```
    pub enum CompanyType {
        /// A publicly traded company: needs its stock exchange, ticker and a brand contact
        /// email (TCR verifies public brands by email).
        Public = "public",
        /// A private company.
        Private = "private",
        /// A non-profit organisation.
        NonProfit = "non-profit",
        /// A government entity.
        Government = "government",
    }
}

wire_enum! {
    /// `stock_exchange` of a public company, as the A2P Messaging Profile lists them.
    ///
    /// ```
    /// use trusthub::attributes::StockExchange;
    ///
    /// assert_eq!(StockExchange::Nasdaq.as_str(), "NASDAQ");
    /// assert!(StockExchange::LISTED_WIRE.contains(&"NYSE"));
    /// ```
    pub enum StockExchange {
        /// Not listed on an exchange.
        None = "NONE",
        /// NASDAQ.
        Nasdaq = "NASDAQ",
        /// New York Stock Exchange.
        Nyse = "NYSE",
        /// NYSE American (AMEX).
        Amex = "AMEX",
        /// AMX.
        Amx = "AMX",
        /// Australian Securities Exchange.
        Asx = "ASX",
        /// B3 (Brazil).
        B3 = "B3",
        /// Bolsas y Mercados Españoles.
        Bme = "BME",
        /// Bombay Stock Exchange.
        Bse = "BSE",
        /// Frankfurt Stock Exchange.
        Fra = "FRA",
        /// Nasdaq Iceland.
        Icex = "ICEX",
        /// Japan Exchange Group.
        Jpx = "JPX",
        /// Johannesburg Stock Exchange.
        Jse = "JSE",
        /// Korea Exchange.
        Krx = "KRX",
        /// London Stock Exchange.
        Lon = "LON",
        /// National Stock Exchange of India.
        Nse = "NSE",
        /// Nasdaq Nordic (OMX).
        Omx = "OMX",
        /// Hong Kong Stock Exchange.
        Sehk = "SEHK",
        /// Singapore Exchange.
        Sgx = "SGX",
        /// Shanghai Stock Exchange.
        Sse = "SSE",
        /// Nasdaq Stockholm.
        Sto = "STO",
        /// SIX Swiss Exchange.
        Swx = "SWX",
        /// Shenzhen Stock Exchange.
        Szse = "SZSE",
        /// Toronto Stock Exchange.
        Tsx = "TSX",
        /// Taiwan Stock Exchange.
        Twse = "TWSE",
        /// Vienna Stock Exchange.
        Vse = "VSE",
        /// Another exchange.
        Other = "OTHER",
    }
}

/// The longest stock ticker accepted locally, in characters.
pub const MAX_STOCK_TICKER_CHARS: usize = 10;

/// The attributes of the A2P Messaging Profile's end user (`us_a2p_messaging_profile_information`).
///
/// A public company needs its exchange, its ticker and a brand contact email; the others need
/// none of them (and send none). The email is personal data: `Debug` redacts it.
///
/// ```
/// use trusthub::attributes::{CompanyType, MessagingProfileInformation, StockExchange, Validate};
///
/// let private = MessagingProfileInformation::new(CompanyType::Private);
/// assert!(private.validate().is_ok());
/// assert_eq!(private.to_attributes().to_string(), r#"{"company_type":"private"}"#);
///
/// // A public company without its ticker and contact email: every problem at once.
/// let public = MessagingProfileInformation {
///     stock_exchange: Some(StockExchange::Nasdaq),
///     ..MessagingProfileInformation::new(CompanyType::Public)
/// };
/// let errors = public.validate().unwrap_err();
/// assert_eq!(
///     errors.fields().collect::<Vec<_>>(),
///     ["a2p_profile.stock_ticker", "a2p_profile.brand_contact_email"]
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MessagingProfileInformation {
    /// What kind of organisation the brand is.
    pub company_type: CompanyType,
    /// The exchange a public company trades on (required for [`CompanyType::Public`]).
    pub stock_exchange: Option<StockExchange>,
    /// The public company's ticker, e.g. `ACME` (required for [`CompanyType::Public`]).
    pub stock_ticker: Option<String>,
    /// Where TCR sends the public brand's verification email (required for
    /// [`CompanyType::Public`]). PII.
    pub brand_contact_email: Option<String>,
}

impl MessagingProfileInformation {
    /// The end user's type.
    pub const END_USER_TYPE: &'static str = "us_a2p_messaging_profile_information";

    /// A profile of `company_type` with nothing else set.
    pub fn new(company_type: CompanyType) -> Self {
        MessagingProfileInformation {
            company_type,
            stock_exchange: None,
            stock_ticker: None,
            brand_contact_email: None,
        }
    }

    /// The `Attributes` object of the EndUser: `company_type`, and for a public company
    /// `stock_exchange`, `stock_ticker` and `brand_contact_email`.
    pub fn to_attributes(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "company_type".into(),
            Value::String(self.company_type.as_str().to_owned()),
        );
        if self.company_type == CompanyType::Public {
            if let Some(exchange) = &self.stock_exchange {
                m.insert(
                    "stock_exchange".into(),
                    Value::String(exchange.as_str().to_owned()),
                );
            }
            for (key, value) in [
                ("stock_ticker", &self.stock_ticker),
                ("brand_contact_email", &self.brand_contact_email),
            ] {
                if let Some(v) = value {
                    m.insert(key.into(), Value::String(v.clone()));
                }
            }
        }
        Value::Object(m)
    }
}

impl Validate for MessagingProfileInformation {
    const DEFAULT_PATH: &'static str = "a2p_profile";

    fn validate_at(&self, path: &str, r: &mut ValidationReport) {
        if let CompanyType::Unlisted(u) = &self.company_type {
            r.unlisted(path, "company_type", u.as_str(), false);
        }
        if self.company_type != CompanyType::Public {
            for (field, given) in [
                ("stock_exchange", self.stock_exchange.is_some()),
                ("stock_ticker", self.stock_ticker.is_some()),
            ] {
                if given {
                    r.warn(
                        super::join(path, field),
                        super::WarningKind::Ignored,
                        format!(
                            "given for a company of type {}: only public companies send it; \
                             not sent",
                            self.company_type
                        ),
                    );
                }
            }
            return;
        }
        match &self.stock_exchange {
            None => r.error(
                super::join(path, "stock_exchange"),
                ProblemKind::Required,
                "the exchange a public company trades on (e.g. NASDAQ)",
                "nothing",
            ),
            Some(StockExchange::Unlisted(u)) => {
                r.unlisted(path, "stock_exchange", u.as_str(), false);
            }
            Some(_) => {}
        }
        match self.stock_ticker.as_deref() {
            Some(ticker) if !ticker.trim().is_empty() => {
                let n = ticker.chars().count();
                let shape = ticker
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
                if n > MAX_STOCK_TICKER_CHARS || !shape {
                    r.error(
                        super::join(path, "stock_ticker"),
                        ProblemKind::Format,
                        format!(
                            "a ticker of 1 to {MAX_STOCK_TICKER_CHARS} letters, digits, '.' or '-'"
                        ),
                        format!(
                            "{n} characters{}",
                            if shape { "" } else { ", other symbols" }
                        ),
                    );
                }
            }
            _ => r.error(
                super::join(path, "stock_ticker"),
                ProblemKind::Required,
                "the public company's ticker (e.g. ACME)",
                "nothing",
            ),
        }
        match self.brand_contact_email.as_deref() {
            Some(email) => {
                r.email(path, "brand_contact_email", email);
                r.text(path, "brand_contact_email", email, MAX_EMAIL_CHARS);
            }
            None => r.error(
                super::join(path, "brand_contact_email"),
                ProblemKind::Required,
                "an email address where TCR verifies a public brand",
                "nothing",
            ),
        }
    }
}

impl fmt::Debug for MessagingProfileInformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagingProfileInformation")
            .field("company_type", &self.company_type)
            .field("stock_exchange", &self.stock_exchange)
            .field("stock_ticker", &self.stock_ticker)
            .field(
                "brand_contact_email",
                &RedactedOption(self.brand_contact_email.as_deref()),
            )
            .finish()
    }
}
