//! The client: credentials, hosts, timeouts, retries and the generated API behind one value.
//!
//! ```
//! use std::time::Duration;
//! use trusthub::sid::AccountSid;
//! use trusthub::Client;
//!
//! let client = Client::builder()
//!     .account_sid("AC0123456789abcdef0123456789abcdef".parse::<AccountSid>()?)
//!     .auth_token("your auth token")
//!     .timeout(Duration::from_secs(20))
//!     .build()?;
//! // Every generated operation is reachable from the client:
//! let _fetch = client.customer_profiles().fetch("BU0123456789abcdef0123456789abcdef");
//! assert!(!format!("{client:?}").contains("your auth token"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::Duration;

use secrecy::zeroize::Zeroize as _;
use trusthub_generated::runtime::{Credentials, RetryPolicy, Secret, Transport};

use crate::sid::{AccountSid, ApiKeySid};

/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = trusthub_generated::runtime::DEFAULT_CONNECT_TIMEOUT;
/// Default time for one attempt (connect, send, read the whole answer).
pub const DEFAULT_TIMEOUT: Duration = trusthub_generated::runtime::DEFAULT_TIMEOUT;

/// The environment variables [`Client::from_env`] reads, as Twilio's own libraries name them
/// (plus `TWILIO_BASE_URL`, ours).
pub mod env {
    /// The account SID (`AC...`); always required.
    pub const ACCOUNT_SID: &str = "TWILIO_ACCOUNT_SID";
    /// The account's auth token (used when no API key is set).
    pub const AUTH_TOKEN: &str = "TWILIO_AUTH_TOKEN";
    /// An API key SID (`SK...`), used with [`API_SECRET`] instead of the auth token.
    pub const API_KEY: &str = "TWILIO_API_KEY";
    /// The secret of [`API_KEY`].
    pub const API_SECRET: &str = "TWILIO_API_SECRET";
    /// Twilio edge location, e.g. `sydney`.
    pub const EDGE: &str = "TWILIO_EDGE";
    /// Twilio region, e.g. `au1`.
    pub const REGION: &str = "TWILIO_REGION";
    /// Route every product (trusthub, api) to this URL, paths kept: an emulator or mock server.
    pub const BASE_URL: &str = "TWILIO_BASE_URL";
}

/// A configuration the client cannot run with; says which setting and what to do.
///
/// ```
/// use trusthub::{Client, ConfigError};
///
/// let err: ConfigError = Client::builder().build().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "no account SID: call .account_sid(..) or set TWILIO_ACCOUNT_SID"
/// );
///
/// // Credentials never travel over plain http:// except to this machine.
/// let err = Client::builder()
///     .account_sid("AC0123456789abcdef0123456789abcdef".parse()?)
///     .auth_token("your auth token")
///     .base_url("http://trusthub.example.com")
///     .build()
///     .unwrap_err();
/// assert!(err.to_string().contains("only allowed to a loopback host"));
/// assert!(!err.to_string().contains("your auth token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The credentials of a client.
#[derive(Clone)]
enum Auth {
    Token(Secret),
    ApiKey(ApiKeySid, Secret),
}

/// A Trust Hub client. Cheap to clone (clones share the connection pool); `Debug` never shows a
/// secret. Dereferences to the generated client, so every operation of the spec is a method:
/// `client.customer_profiles().create(..)`, `client.policies().list().into_stream()`.
///
/// Against the embedded emulator, which stands in for Twilio:
///
/// ```
/// use futures_util::TryStreamExt;
/// use trusthub::api::trusthub_v1::CustomerProfileStatus;
/// use trusthub::sid::policies;
/// use trusthub::Client;
/// use trusthub_emulator::{start, EmulatorConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = start(EmulatorConfig::default()).await?;
/// let client = Client::builder()
///     .account_sid(emulator.account_sid().parse()?)
///     .auth_token(emulator.auth_token())
///     .base_url(emulator.base_url())
///     .build()?;
/// assert_eq!(client.account_sid(), emulator.account_sid());
///
/// // The seeded primary profile of the ISV, through the generated operations.
/// let profile = client
///     .customer_profiles()
///     .fetch(emulator.primary_profile_sid())
///     .send()
///     .await?;
/// assert_eq!(profile.status, Some(CustomerProfileStatus::TwilioApproved));
///
/// // Lists page through `next_page_url` as a stream.
/// let policies: Vec<_> = client.policies().list().page_size(2).into_stream().try_collect().await?;
/// let secondary = policies::SECONDARY_CUSTOMER_PROFILE;
/// assert!(policies.iter().any(|p| p.sid == Some(secondary)));
///
/// // A wrong auth token is Twilio's 401 / 20003, and never echoed.
/// let wrong = Client::builder()
///     .account_sid(client.account_sid())
///     .auth_token("not the token")
///     .base_url(emulator.base_url())
///     .build()?;
/// let err = wrong.policies().fetch(secondary).send().await.unwrap_err();
/// assert_eq!((err.status(), err.code()), (Some(401), Some(20003)));
/// assert!(!err.to_string().contains("not the token"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    api: trusthub_generated::Client,
    account_sid: AccountSid,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("account_sid", &self.account_sid)
            .field("transport", self.api.transport())
            .finish()
    }
}

impl std::ops::Deref for Client {
    type Target = trusthub_generated::Client;

    fn deref(&self) -> &Self::Target {
        &self.api
    }
}

impl Client {
    /// A builder: account SID and credentials are required, the rest has documented defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment variables in [`env`](mod@env):
    /// `TWILIO_ACCOUNT_SID` with `TWILIO_AUTH_TOKEN`, or with `TWILIO_API_KEY` +
    /// `TWILIO_API_SECRET`; optional `TWILIO_EDGE`, `TWILIO_REGION`, `TWILIO_BASE_URL`.
    pub fn from_env() -> Result<Client, ConfigError> {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok())?.build()
    }

    /// The account this client acts on.
    pub fn account_sid(&self) -> AccountSid {
        self.account_sid
    }

    /// The generated client (also reachable through `Deref`).
    pub fn api(&self) -> &trusthub_generated::Client {
        &self.api
    }
}

/// Configures a [`Client`].
///
/// [`ClientBuilder::from_lookup`] reads the same variables as [`Client::from_env`] from any
/// source, here a map:
///
/// ```
/// use std::collections::HashMap;
/// use trusthub::ClientBuilder;
///
/// let vars = HashMap::from([
///     ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
///     ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
///     ("TWILIO_API_SECRET", "key secret"),
///     ("TWILIO_REGION", "au1"),
/// ]);
/// let lookup = |name: &str| vars.get(name).map(|v| v.to_string());
/// let builder = ClientBuilder::from_lookup(lookup)?.user_agent_extension("my-isv/1.2");
/// let shown = format!("{builder:?}");
/// assert!(shown.contains("API key SK0123456789abcdef0123456789abcdef [redacted]"));
/// assert!(!shown.contains("key secret"));
/// let client = builder.no_retries().build()?;
/// assert_eq!(client.account_sid(), "AC0123456789abcdef0123456789abcdef");
///
/// // A key without its secret is refused, naming both variables.
/// let err = ClientBuilder::from_lookup(|name| match name {
///     "TWILIO_ACCOUNT_SID" => Some("AC0123456789abcdef0123456789abcdef".into()),
///     "TWILIO_API_KEY" => Some("SK0123456789abcdef0123456789abcdef".into()),
///     _ => None,
/// })
/// .unwrap_err();
/// assert!(err.to_string().starts_with("TWILIO_API_KEY is set but TWILIO_API_SECRET is not"));
/// # Ok::<(), trusthub::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    account_sid: Option<AccountSid>,
    auth: Option<Auth>,
    edge: Option<String>,
    region: Option<String>,
    base_url: Option<String>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    user_agent_extensions: Vec<String>,
    env_proxy: bool,
    /// The whole URL is secret: its user info may hold the proxy's password.
    proxy: Option<Secret>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("account_sid", &self.account_sid)
            .field(
                "auth",
                &match &self.auth {
                    None => "none".to_owned(),
                    Some(Auth::Token(_)) => "auth token [redacted]".to_owned(),
                    Some(Auth::ApiKey(key, _)) => format!("API key {key} [redacted]"),
                },
            )
            .field("edge", &self.edge)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("env_proxy", &self.env_proxy)
            .field("proxy", &self.proxy.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// The value trimmed, `None` when blank. A value that needs trimming is copied and the original
/// wiped: the lookup's strings may be secrets (`TWILIO_AUTH_TOKEN`, `TWILIO_API_SECRET`).
fn non_empty(value: Option<String>) -> Option<String> {
    let mut value = value?;
    if value.trim().len() != value.len() {
        let trimmed = value.trim().to_owned();
        value.zeroize();
        value = trimmed;
    }
    (!value.is_empty()).then_some(value)
}

impl ClientBuilder {
    /// A builder filled from `lookup` (an environment: name -> value), as [`Client::from_env`]
    /// does with the process environment. Useful to read a config map or to test.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| non_empty(lookup(name));
        let account_sid = get(env::ACCOUNT_SID).ok_or_else(|| {
            ConfigError(format!(
                "{} is not set: export your Account SID (AC followed by 32 hex digits, from the Twilio Console)",
                env::ACCOUNT_SID
            ))
        })?;
        let account_sid: AccountSid = account_sid
            .parse()
            .map_err(|e| ConfigError(format!("{}: {e}", env::ACCOUNT_SID)))?;
        let mut builder = Client::builder().account_sid(account_sid);
        match (
            get(env::API_KEY),
            get(env::API_SECRET),
            get(env::AUTH_TOKEN),
        ) {
            (Some(key), Some(secret), _) => {
                let key: ApiKeySid = key
                    .parse()
                    .map_err(|e| ConfigError(format!("{}: {e}", env::API_KEY)))?;
                builder = builder.api_key(key, secret);
            }
            (Some(_), None, _) => {
                return Err(ConfigError(format!(
                    "{} is set but {} is not: set both, or neither and {}",
                    env::API_KEY,
                    env::API_SECRET,
                    env::AUTH_TOKEN
                )));
            }
            (None, Some(_), _) => {
                return Err(ConfigError(format!(
                    "{} is set but {} is not: set both, or neither and {}",
                    env::API_SECRET,
                    env::API_KEY,
                    env::AUTH_TOKEN
                )));
            }
            (None, None, Some(token)) => builder = builder.auth_token(token),
            (None, None, None) => {
                return Err(ConfigError(format!(
                    "no credentials: set {} (or {} and {})",
                    env::AUTH_TOKEN,
                    env::API_KEY,
                    env::API_SECRET
                )));
            }
        }
        if let Some(edge) = get(env::EDGE) {
            builder = builder.edge(edge);
        }
        if let Some(region) = get(env::REGION) {
            builder = builder.region(region);
        }
        if let Some(url) = get(env::BASE_URL) {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The account the client acts on (and whose 2010-API paths it fills in).
    pub fn account_sid(mut self, account_sid: AccountSid) -> Self {
        self.account_sid = Some(account_sid);
        self
    }

    /// Authenticate with the account's auth token.
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Auth::Token(Secret::new(token)));
        self
    }

    /// Authenticate with an API key and its secret (recommended over the auth token).
    pub fn api_key(mut self, key: ApiKeySid, secret: impl Into<String>) -> Self {
        self.auth = Some(Auth::ApiKey(key, Secret::new(secret)));
        self
    }

    /// Twilio edge location (e.g. `sydney`): `trusthub.twilio.com` becomes
    /// `trusthub.sydney.us1.twilio.com` (region `us1` unless [`Self::region`] says otherwise).
    pub fn edge(mut self, edge: impl Into<String>) -> Self {
        self.edge = Some(edge.into());
        self
    }

    /// Twilio region (e.g. `au1`): `trusthub.twilio.com` becomes `trusthub.au1.twilio.com`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Send every product (trusthub, api) to this URL, paths kept: the emulator or a mock
    /// server. `http://` is accepted for loopback hosts only.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Time allowed to establish a connection; default [`DEFAULT_CONNECT_TIMEOUT`] (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Time allowed for one attempt, from connecting to the last byte of the answer; default
    /// [`DEFAULT_TIMEOUT`] (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries: 429 and 503 for every request (Twilio did not process them), honoring
    /// `Retry-After`, with exponential backoff and full jitter; GET and DELETE also on connection
    /// errors, timeouts, 502 and 504. A POST is retried only when it provably never left (connect
    /// error). Default: [`RetryPolicy::default`] (4 attempts, 60 s in all).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// No retries at all.
    pub fn no_retries(self) -> Self {
        self.retry_policy(RetryPolicy::none())
    }

    /// Appends `extension` to the User-Agent (`trusthub/<version> (<os> <arch>) rust/<version>
    /// <extensions>`), e.g. your product's name and version.
    pub fn user_agent_extension(mut self, extension: impl Into<String>) -> Self {
        self.user_agent_extensions.push(extension.into());
        self
    }

    /// Whether to send requests through the proxies the environment names: `HTTPS_PROXY` (for
    /// Twilio's `https://` hosts), `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (lower-case spellings
    /// too), read when the client is built. Default `false`: a variable set for other tools does
    /// not reroute requests that carry credentials.
    ///
    /// Precedence: a loopback [`base_url`](Self::base_url) (the emulator) is never proxied; else
    /// [`proxy`](Self::proxy) when set (the environment is then not read); else the environment's
    /// proxies when this is `true`; else none.
    pub fn env_proxy(mut self, enabled: bool) -> Self {
        self.env_proxy = enabled;
        self
    }

    /// Sends every request through this proxy: `http://[user:password@]host[:port]` (or
    /// `https://` for a proxy spoken to over TLS). Requests to Twilio go through a `CONNECT`
    /// tunnel: the proxy sees the host and port, never the credentials or the body. The URL's
    /// user info, percent-decoded, goes to the proxy as Basic auth. The URL is never logged,
    /// shown by `Debug` or repeated in errors. Wins over [`env_proxy`](Self::env_proxy); see
    /// there for the precedence.
    ///
    /// ```
    /// use trusthub::Client;
    ///
    /// let builder = Client::builder()
    ///     .account_sid("AC0123456789abcdef0123456789abcdef".parse()?)
    ///     .auth_token("your auth token")
    ///     .proxy("http://proxy-user:proxy-password@proxy.example.com:3128");
    /// assert!(!format!("{builder:?}").contains("proxy-password"));
    /// let client = builder.build()?;
    /// assert!(!format!("{client:?}").contains("proxy-password"));
    ///
    /// // Not a proxy URL: refused when the client is built, without repeating it.
    /// let err = Client::builder()
    ///     .account_sid("AC0123456789abcdef0123456789abcdef".parse()?)
    ///     .auth_token("your auth token")
    ///     .proxy("socks5://proxy-user:proxy-password@proxy.example.com:1080")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("the proxy must be an http:// or https:// URL"));
    /// assert!(!err.to_string().contains("proxy-password"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(Secret::new(url));
        self
    }

    /// Builds the client; says what is missing or wrong.
    pub fn build(self) -> Result<Client, ConfigError> {
        let account_sid = self.account_sid.ok_or_else(|| {
            ConfigError("no account SID: call .account_sid(..) or set TWILIO_ACCOUNT_SID".into())
        })?;
        let credentials = match self.auth {
            Some(Auth::Token(token)) => Credentials::auth_token(account_sid.as_str(), token),
            Some(Auth::ApiKey(key, secret)) => {
                Credentials::api_key(account_sid.as_str(), key.as_str(), secret)
            }
            None => return Err(ConfigError(
                "no credentials: call .auth_token(..) or .api_key(..) (or set TWILIO_AUTH_TOKEN)"
                    .into(),
            )),
        };
        let mut transport = Transport::builder()
            .credentials(credentials)
            .user_agent_product(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
        if let Some(edge) = self.edge {
            transport = transport.edge(edge);
        }
        if let Some(region) = self.region {
            transport = transport.region(region);
        }
        if let Some(url) = self.base_url {
            transport = transport.base_url_override(url);
        }
        if let Some(t) = self.connect_timeout {
            transport = transport.connect_timeout(t);
        }
        if let Some(t) = self.timeout {
            transport = transport.timeout(t);
        }
        if let Some(policy) = self.retry {
            transport = transport.retry(policy);
        }
        for extension in self.user_agent_extensions {
            transport = transport.user_agent_extension(extension);
        }
        transport = transport.env_proxy(self.env_proxy);
        if let Some(proxy) = self.proxy {
            transport = transport.proxy(proxy.expose());
        }
        let transport = transport.build().map_err(|e| ConfigError(e.to_string()))?;
        Ok(Client {
            api: trusthub_generated::Client::new(transport),
            account_sid,
        })
    }
}
