//! Who the requests act as: an account SID with its auth token, or an API key.

use std::fmt;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::zeroize::Zeroizing;

use crate::error::Error;
use crate::secret::Secret;

#[derive(Clone)]
enum Kind {
    AuthToken(Secret),
    ApiKey { key_sid: String, secret: Secret },
}

/// Credentials for HTTP Basic authentication.
///
/// - [`Credentials::auth_token`]: username = the account SID (`AC...`), password = the auth token.
/// - [`Credentials::api_key`]: username = the API key SID (`SK...`), password = its secret; the
///   account SID still says which account the requests act on (`{AccountSid}` of 2010 paths).
///
/// `Debug` shows the account SID and the key SID only. The token or secret is held as a
/// [`Secret`]: each copy wiped from memory when it is dropped, never compared.
///
/// ```
/// use trusthub_runtime::Credentials;
///
/// let credentials = Credentials::api_key(
///     "AC0123456789abcdef0123456789abcdef",
///     "SK0123456789abcdef0123456789abcdef",
///     "key-secret",
/// );
/// assert_eq!(credentials.account_sid(), "AC0123456789abcdef0123456789abcdef");
/// assert!(!format!("{credentials:?}").contains("key-secret"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    account_sid: String,
    kind: Kind,
}

impl Credentials {
    /// An account SID (`AC` + 32 hex) and its auth token.
    pub fn auth_token(account_sid: impl Into<String>, token: impl Into<Secret>) -> Self {
        Credentials {
            account_sid: account_sid.into(),
            kind: Kind::AuthToken(token.into()),
        }
    }

    /// An API key (`SK` + 32 hex) and its secret, acting on `account_sid`.
    pub fn api_key(
        account_sid: impl Into<String>,
        key_sid: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        Credentials {
            account_sid: account_sid.into(),
            kind: Kind::ApiKey {
                key_sid: key_sid.into(),
                secret: secret.into(),
            },
        }
    }

    /// The account the requests act on.
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// The Basic-auth username: the account SID, or the API key SID.
    pub fn username(&self) -> &str {
        match &self.kind {
            Kind::AuthToken(_) => &self.account_sid,
            Kind::ApiKey { key_sid, .. } => key_sid,
        }
    }

    fn password(&self) -> &Secret {
        match &self.kind {
            Kind::AuthToken(token) => token,
            Kind::ApiKey { secret, .. } => secret,
        }
    }

    /// Checks the SIDs' shape and that the secret is not empty (errors never echo the secret).
    pub fn validate(&self) -> Result<(), Error> {
        check_sid("account SID", &self.account_sid, "AC")?;
        if let Kind::ApiKey { key_sid, .. } = &self.kind {
            check_sid("API key SID", key_sid, "SK")?;
        }
        let what = match self.kind {
            Kind::AuthToken(_) => "auth token",
            Kind::ApiKey { .. } => "API key secret",
        };
        let password = self.password().expose();
        if password.is_empty() {
            return Err(Error::config(format!(
                "the {what} is empty; give the one from the Twilio Console"
            )));
        }
        if password.bytes().any(|b| b.is_ascii_control()) {
            return Err(Error::config(format!(
                "the {what} contains control characters (a stray newline?); give it as shown \
                 in the Twilio Console"
            )));
        }
        Ok(())
    }

    /// `Basic base64(username:password)`, marked sensitive so that HTTP libraries do not print it.
    /// The intermediate strings are wiped; the header value itself is held by the HTTP library's
    /// types, which do not wipe their memory (the transport builds it once).
    pub(crate) fn authorization(&self) -> Result<HeaderValue, Error> {
        let raw = Zeroizing::new(format!("{}:{}", self.username(), self.password().expose()));
        let mut header = Zeroizing::new(String::with_capacity(6 + raw.len().div_ceil(3) * 4));
        header.push_str("Basic ");
        base64::engine::general_purpose::STANDARD.encode_string(raw.as_bytes(), &mut header);
        let mut value = HeaderValue::from_str(&header)
            .map_err(|_| Error::config("credentials cannot form a header".to_owned()))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

fn check_sid(what: &str, sid: &str, prefix: &str) -> Result<(), Error> {
    let ok = sid.len() == 34
        && sid.starts_with(prefix)
        && sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        let shape = if sid.is_ascii() {
            format!(
                "{} characters, starts with '{}'",
                sid.len(),
                sid.get(..2).unwrap_or(sid)
            )
        } else {
            format!("{} characters, not all ASCII", sid.chars().count())
        };
        Err(Error::config(format!(
            "the {what} must be {prefix} followed by 32 hex digits (34 characters), got {shape}"
        )))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Credentials");
        s.field("account_sid", &self.account_sid);
        match &self.kind {
            Kind::AuthToken(_) => s.field("auth_token", &"[redacted]"),
            Kind::ApiKey { key_sid, .. } => s
                .field("api_key_sid", key_sid)
                .field("api_key_secret", &"[redacted]"),
        };
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const SK: &str = "SKfedcba9876543210fedcba9876543210";

    #[test]
    fn basic_auth_values() {
        // base64("AC0123456789abcdef0123456789abcdef:token-123")
        let auth = Credentials::auth_token(AC, "token-123")
            .authorization()
            .unwrap();
        assert_eq!(
            auth.to_str().unwrap(),
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2tlbi0xMjM="
        );
        assert!(auth.is_sensitive());
        // base64("SKfedcba9876543210fedcba9876543210:key-secret")
        let auth = Credentials::api_key(AC, SK, "key-secret")
            .authorization()
            .unwrap();
        assert_eq!(
            auth.to_str().unwrap(),
            "Basic U0tmZWRjYmE5ODc2NTQzMjEwZmVkY2JhOTg3NjU0MzIxMDprZXktc2VjcmV0"
        );
    }

    #[test]
    fn debug_shows_sids_only() {
        let debug = format!("{:?}", Credentials::api_key(AC, SK, "key-secret"));
        assert!(debug.contains(AC) && debug.contains(SK), "{debug}");
        assert!(!debug.contains("key-secret"), "{debug}");
        let debug = format!("{:?}", Credentials::auth_token(AC, "tok-abc"));
        assert!(!debug.contains("tok-abc"), "{debug}");
    }

    #[test]
    fn validation() {
        assert!(Credentials::auth_token(AC, "t").validate().is_ok());
        assert!(Credentials::api_key(AC, SK, "s").validate().is_ok());
        let error = Credentials::auth_token("AC123", "t")
            .validate()
            .unwrap_err();
        assert!(
            error.to_string().contains("5 characters, starts with 'AC'"),
            "{error}"
        );
        assert!(Credentials::api_key(AC, AC, "s").validate().is_err());
        assert!(Credentials::auth_token(AC, "").validate().is_err());
        let error = Credentials::auth_token(AC, "secret\n")
            .validate()
            .unwrap_err();
        assert!(!error.to_string().contains("secret\n"));
    }
}
