//! When to send a request again, and after how long.
//!
//! Rules (one place, used by [`Transport`](crate::Transport)):
//! - **GET and DELETE** (idempotent) are retried on 429, 502, 503 and 504, on connection and
//!   I/O errors and on timeouts. The delay is the server's `Retry-After` (seconds or HTTP-date)
//!   when present, else exponential backoff.
//! - **POST** is retried only when Twilio provably did not process it
//!   ([`Error::processed`] is [`Processed::No`]): a connect error (the
//!   request never left) or Twilio's own 429 carrying its code 20429. Never on a gateway's 429
//!   or 503 without that code, a timeout, 500, 502, 504 or a connection dropped after sending:
//!   the server may have committed it, and the caller looks it up instead (the flows do).
//! - **500 is never retried**: Twilio answers 500 for failures that usually repeat for the same
//!   request; retrying only delays the error. (A gateway's transient failure is 502/503/504.)
//! - Backoff is exponential with FULL jitter: `random(0, min(max_backoff, initial * 2^n))` before
//!   retry `n` (0-based).
//! - Bounds: at most `max_attempts` requests in all; no retry starts whose delay would end after
//!   `max_elapsed` from the first attempt (a `Retry-After` beyond the budget stops at once).

use std::time::Duration;

use crate::error::{Error, ErrorKind, Processed, TransportErrorKind};
use crate::operation::HttpMethod;

/// How many times and how patiently a request is sent.
///
/// ```
/// use std::time::Duration;
/// use trusthub_runtime::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_attempts, 4);
/// assert_eq!(policy.initial_backoff, Duration::from_millis(200));
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests sent at most, the first included (1 = no retry). Must be at least 1.
    pub max_attempts: u32,
    /// Cap of the first backoff delay; the cap doubles with each retry.
    pub initial_backoff: Duration,
    /// Largest backoff cap (a server's `Retry-After` may ask for longer and is honored).
    pub max_backoff: Duration,
    /// No retry is started if its delay would end later than this after the first attempt began.
    pub max_elapsed: Duration,
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `retry` (0 for the first retry): a uniformly random
    /// duration in `[0, min(max_backoff, initial_backoff * 2^retry)]` (full jitter).
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self.backoff_cap(retry);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// `min(max_backoff, initial_backoff * 2^retry)`, saturating.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    /// 4 attempts, 200 ms initial backoff, 10 s largest backoff, 60 s elapsed budget.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// Why a failed attempt may be sent again (`Some`, a short reason for traces), or `None` when
/// it must not be, for a request of `method`.
pub fn retry_reason(method: HttpMethod, error: &Error) -> Option<&'static str> {
    if !method.is_idempotent() {
        // Only what Twilio did not process may be sent again blindly.
        return match (error.processed(), error.kind()) {
            (Processed::No, ErrorKind::Api) => Some("rate limited by Twilio (429, code 20429)"),
            (Processed::No, ErrorKind::Transport) => Some("connect error (request never sent)"),
            _ => None,
        };
    }
    match error.kind() {
        ErrorKind::Api => match error.status() {
            Some(429) => Some("rate limited (429)"),
            Some(503) => Some("service unavailable (503)"),
            Some(502) => Some("bad gateway (502)"),
            Some(504) => Some("gateway timeout (504)"),
            _ => None,
        },
        ErrorKind::Transport => match error.transport_kind() {
            Some(TransportErrorKind::Connect) => Some("connect error (request never sent)"),
            Some(TransportErrorKind::Request) => Some("connection error"),
            Some(TransportErrorKind::Body) => Some("body read error"),
            Some(TransportErrorKind::Other) | None => Some("client error"),
        },
        ErrorKind::Timeout => Some("timeout"),
        _ => None,
    }
}

/// Parses a `Retry-After` value (RFC 9110, section 10.2.3): delay seconds (`"120"`) or an
/// HTTP-date in any of its three forms, relative to `now`: the preferred IMF-fixdate
/// (`"Sun, 06 Nov 1994 08:49:37 GMT"`) and the obsolete RFC 850 (`"Sunday, 06-Nov-94 08:49:37
/// GMT"`) and asctime (`"Sun Nov  6 08:49:37 1994"`) forms that recipients must still accept.
/// A date in the past is zero. `None` when the value is none of these (a date whose weekday does
/// not match the day, a negative or fractional number, a date before 1970).
///
/// Seconds too many for a `u64` saturate; whatever the delay, the transport starts no retry that
/// would end after [`RetryPolicy::max_elapsed`].
///
/// ```
/// use std::time::Duration;
/// use trusthub_runtime::retry::parse_retry_after;
/// use time::macros::datetime;
///
/// let now = datetime!(2024-01-01 00:00:00 UTC);
/// assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("Mon, 01 Jan 2024 00:00:05 GMT", now), Some(Duration::from_secs(5)));
/// assert_eq!(parse_retry_after("Mon Jan  1 00:00:07 2024", now), Some(Duration::from_secs(7)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    // httpdate accepts the years 1970 to 9999, all within `OffsetDateTime`'s range.
    let at = time::OffsetDateTime::from(httpdate::parse_http_date(value).ok()?);
    let delta = at - now;
    Some(if delta.is_negative() {
        Duration::ZERO
    } else {
        delta.unsigned_abs()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use reqwest::header::HeaderMap;
    use time::macros::datetime;

    fn api(status: u16) -> Error {
        Error::api(ApiError::from_response(
            "Op",
            status,
            &HeaderMap::new(),
            b"",
        ))
    }

    /// An answer with Twilio's error body and `code`.
    fn twilio(status: u16, code: i64) -> Error {
        let body = format!(r#"{{"code": {code}, "message": "m", "status": {status}}}"#);
        Error::api(ApiError::from_response(
            "Op",
            status,
            &HeaderMap::new(),
            body.as_bytes(),
        ))
    }

    #[test]
    fn status_rules_per_method() {
        use HttpMethod::*;
        for method in [Get, Delete] {
            for status in [429, 502, 503, 504] {
                assert!(
                    retry_reason(method, &api(status)).is_some(),
                    "{method} {status}"
                );
            }
        }
        for method in [Get, Post, Delete] {
            assert!(retry_reason(method, &twilio(429, 20429)).is_some());
            for status in [400, 401, 404, 409, 500] {
                assert!(
                    retry_reason(method, &api(status)).is_none(),
                    "{method} {status}"
                );
            }
        }
        // A POST answered by a gateway (no Twilio code) may have been committed behind it.
        for status in [429, 502, 503, 504] {
            assert!(retry_reason(Post, &api(status)).is_none(), "POST {status}");
        }
        assert!(retry_reason(Post, &twilio(503, 20503)).is_none());
        assert!(retry_reason(Post, &twilio(429, 20001)).is_none());
    }

    #[test]
    fn processed_is_no_only_where_twilio_says_so() {
        assert_eq!(twilio(429, 20429).processed(), Processed::No);
        assert_eq!(api(429).processed(), Processed::Maybe);
        assert_eq!(api(503).processed(), Processed::Maybe);
        assert_eq!(twilio(503, 20503).processed(), Processed::Maybe);
        assert_eq!(api(500).processed(), Processed::Maybe);
        assert_eq!(twilio(400, 20001).processed(), Processed::Refused);
        assert_eq!(twilio(404, 20404).processed(), Processed::Refused);
        assert_eq!(api(400).processed(), Processed::Maybe);
        let timeout = Error::timed_out("Op", Duration::from_secs(1));
        assert_eq!(timeout.processed(), Processed::Maybe);
        let decode = Error::decode("Op", 201, "x");
        assert_eq!(decode.processed(), Processed::Yes);
        let exhausted = Error::retries_exhausted("Op", 4, twilio(429, 20429));
        assert_eq!(exhausted.processed(), Processed::No);
    }

    #[test]
    fn timeouts_only_for_idempotent_methods() {
        let timeout = Error::timed_out("Op", Duration::from_secs(1));
        assert!(retry_reason(HttpMethod::Get, &timeout).is_some());
        assert!(retry_reason(HttpMethod::Delete, &timeout).is_some());
        assert!(retry_reason(HttpMethod::Post, &timeout).is_none());
    }

    #[test]
    fn other_errors_are_final() {
        for error in [
            Error::config("x"),
            Error::body_too_large("Op", 1),
            Error::decode("Op", 200, "x"),
        ] {
            assert!(retry_reason(HttpMethod::Get, &error).is_none());
        }
    }

    #[test]
    fn backoff_cap_doubles_up_to_max() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(60),
        };
        assert_eq!(policy.backoff_cap(0), Duration::from_millis(200));
        assert_eq!(policy.backoff_cap(1), Duration::from_millis(400));
        assert_eq!(policy.backoff_cap(2), Duration::from_millis(800));
        assert_eq!(policy.backoff_cap(3), Duration::from_secs(1));
        assert_eq!(policy.backoff_cap(200), Duration::from_secs(1));
        for retry in 0..8 {
            for _ in 0..50 {
                assert!(policy.backoff(retry) <= policy.backoff_cap(retry));
            }
        }
    }

    #[test]
    fn backoff_is_jittered_over_the_whole_range() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let samples: Vec<Duration> = (0..400).map(|_| policy.backoff(0)).collect();
        assert!(samples.iter().any(|d| *d < Duration::from_millis(250)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(750)));
    }

    #[test]
    fn retry_after_forms() {
        let now = datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("tomorrow", now), None);
    }

    /// RFC 9110's example instant in its three forms, from a minute before it.
    #[test]
    fn retry_after_takes_every_http_date_form() {
        let now = datetime!(1994-11-06 08:48:37 UTC);
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",  // IMF-fixdate
            "Sunday, 06-Nov-94 08:49:37 GMT", // obsolete RFC 850
            "Sun Nov  6 08:49:37 1994",       // obsolete asctime
        ] {
            assert_eq!(
                parse_retry_after(form, now),
                Some(Duration::from_secs(60)),
                "{form}"
            );
            assert_eq!(
                parse_retry_after(&format!("  {form} "), now),
                Some(Duration::from_secs(60)),
                "{form} with spaces around"
            );
        }
    }

    #[test]
    fn a_retry_after_date_in_the_past_is_zero_in_every_form() {
        let now = datetime!(2024-05-01 12:00:00 UTC);
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Wed, 01 May 2024 11:59:59 GMT",
        ] {
            assert_eq!(parse_retry_after(form, now), Some(Duration::ZERO), "{form}");
        }
        // The very instant: no wait either.
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 12:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage_retry_after_values_are_refused() {
        let now = datetime!(2024-05-01 12:00:00 UTC);
        for garbage in [
            "soon",
            "12 seconds",
            "+5",
            "0x10",
            "Wed, 01 May 2024 12:00:60 GMT",  // no 60th second
            "Thu, 01 May 2024 12:00:00 GMT",  // the weekday does not match
            "Wed, 01 May 2024 12:00:00 UTC",  // only GMT is an HTTP-date
            "Wed, 1 May 2024 12:00:00 GMT",   // two-digit day
            "2024-05-01T12:00:05Z",           // ISO 8601 is not an HTTP-date
            "Thu, 01 Jan 1970 00:00:00 GMTx", // trailing text
            "Wed, 31 Dec 1969 23:59:59 GMT",  // before 1970
            "\u{1b}[2J",
        ] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }
}
