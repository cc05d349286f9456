//! A string that must never be printed: auth tokens, API key secrets, a proxy URL's password.

use std::fmt;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};

/// A secret string (auth token, API key secret). `Debug` and `Display` print `[redacted]`;
/// [`Secret::expose`] is the one way to read it.
///
/// The text lives in a heap allocation of its own (a `secrecy::SecretString`) that is
/// overwritten with zeros when the `Secret` (or a clone of it) is dropped; the `String` it was
/// made from is wiped as it is taken in. There is deliberately no `PartialEq`: comparing secrets
/// with `==` takes a time that depends on the secret, and nothing in this client needs to.
///
/// ```
/// use trusthub_runtime::Secret;
///
/// let token = Secret::new("my-auth-token");
/// assert_eq!(format!("{token} {token:?}"), "[redacted] [redacted]");
/// assert_eq!(token.expose(), "my-auth-token");
/// ```
///
/// Secrets cannot be compared:
///
/// ```compile_fail
/// use trusthub_runtime::Secret;
///
/// let same = Secret::new("a") == Secret::new("a");
/// ```
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps `value`, wiping the `String` it is given.
    pub fn new(value: impl Into<String>) -> Self {
        let mut value: String = value.into();
        // A copy into an allocation of the exact size, then the original wiped over its whole
        // capacity: `String::into_boxed_str` may move the text to a smaller allocation and free
        // the old one without wiping it.
        let secret = SecretString::from(Box::<str>::from(value.as_str()));
        value.zeroize();
        Secret(secret)
    }

    /// The secret text. Only for building the `Authorization` header or handing the secret to
    /// another secret store; never log it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(SecretString::from(Box::<str>::from(value)))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let secret = Secret::from("s3cr3t-value".to_owned());
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret:#?}"), "[redacted]");
        assert_eq!(secret.to_string(), "[redacted]");
        assert_eq!(secret.expose(), "s3cr3t-value");
    }

    #[test]
    fn clones_and_every_constructor_keep_the_text() {
        let from_str = Secret::from("tok-1");
        let from_string = Secret::from(String::from("tok-1"));
        let with_spare_capacity = {
            let mut text = String::with_capacity(64);
            text.push_str("tok-1");
            Secret::new(text)
        };
        let clone = with_spare_capacity.clone();
        drop(with_spare_capacity);
        for secret in [&from_str, &from_string, &clone] {
            assert_eq!(secret.expose(), "tok-1");
        }
    }
}
