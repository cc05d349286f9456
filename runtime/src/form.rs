//! `application/x-www-form-urlencoded` bodies (and query strings) exactly as Twilio expects them.
//!
//! Encoding rules, shared by request bodies, query strings and path parameters:
//! - keys keep their insertion order; a repeated key (array parameter) is written once per value,
//!   `K=a&K=b`;
//! - every byte outside the unreserved set `[A-Za-z0-9-._~]` becomes `%XX` with uppercase hex
//!   digits, so a space is `%20` (never `+`) and non-ASCII text is its UTF-8 bytes, each escaped.

use std::fmt;

/// Percent-encodes every byte of `value` outside the unreserved set `[A-Za-z0-9-._~]` as `%XX`
/// (uppercase hex). A space becomes `%20`.
///
/// ```
/// assert_eq!(trusthub_runtime::percent_encode("a b/é"), "a%20b%2F%C3%A9");
/// ```
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    percent_encode_into(&mut out, value);
    out
}

/// [`percent_encode`], appended to `out`.
fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let unreserved =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A run of unreserved bytes is copied at once: they are ASCII, so a run that is not
        // empty starts and ends on character boundaries.
        let start = i;
        while i < bytes.len() && unreserved(bytes[i]) {
            i += 1;
        }
        if i > start {
            out.push_str(&value[start..i]);
        }
        if let Some(&byte) = bytes.get(i) {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
            i += 1;
        }
    }
}

/// Encodes `pairs` as `k1=v1&k2=v2` with [`percent_encode`] applied to keys and values.
pub(crate) fn encode_pairs<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(&mut out, key);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// A form body: an ordered list of `key=value` fields.
///
/// `Debug` prints the keys only: values are user data (names, emails, phone numbers).
///
/// ```
/// use trusthub_runtime::FormBody;
///
/// let mut form = FormBody::new();
/// form.push("FriendlyName", "acme business");
/// form.push_bool("Enabled", true);
/// form.push_each("Tags", &["a".to_owned(), "b".to_owned()]);
/// assert_eq!(form.encode(), "FriendlyName=acme%20business&Enabled=true&Tags=a&Tags=b");
/// assert_eq!(format!("{form:?}"), r#"FormBody { keys: ["FriendlyName", "Enabled", "Tags", "Tags"] }"#);
/// ```
#[derive(Default, Clone)]
pub struct FormBody {
    fields: Vec<(&'static str, String)>,
}

impl FormBody {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one field.
    pub fn push(&mut self, key: &'static str, value: &str) {
        self.fields.push((key, value.to_owned()));
    }

    /// Appends one boolean field as `true` / `false`.
    pub fn push_bool(&mut self, key: &'static str, value: bool) {
        self.fields
            .push((key, if value { "true" } else { "false" }.to_owned()));
    }

    /// Appends ONE field holding `value` as compact JSON text (Twilio's `Attributes`). Object keys
    /// keep their insertion order (this crate enables `serde_json`'s `preserve_order`).
    ///
    /// ```
    /// let mut form = trusthub_runtime::FormBody::new();
    /// form.push_json("Attributes", &serde_json::json!({"business_name": "acme business"}));
    /// assert_eq!(
    ///     form.encode(),
    ///     "Attributes=%7B%22business_name%22%3A%22acme%20business%22%7D"
    /// );
    /// ```
    pub fn push_json(&mut self, key: &'static str, value: &serde_json::Value) {
        // Display of a `Value` is its compact JSON text and cannot fail.
        self.fields.push((key, value.to_string()));
    }

    /// Appends an untyped object parameter (Twilio's `Attributes`) the way Twilio's own libraries
    /// do: a JSON string is sent as is (it already holds JSON text), anything else as compact JSON.
    ///
    /// ```
    /// let mut form = trusthub_runtime::FormBody::new();
    /// form.push_object("Attributes", &serde_json::json!({"a": "b"}));
    /// form.push_object("Attributes", &serde_json::json!("{\"a\":\"b\"}"));
    /// assert_eq!(form.encode(), "Attributes=%7B%22a%22%3A%22b%22%7D&Attributes=%7B%22a%22%3A%22b%22%7D");
    /// ```
    pub fn push_object(&mut self, key: &'static str, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => self.push(key, text),
            other => self.push_json(key, other),
        }
    }

    /// Appends `key` once per value (`K=a&K=b`), Twilio's encoding of array parameters.
    pub fn push_each(&mut self, key: &'static str, values: &[String]) {
        self.fields
            .extend(values.iter().map(|value| (key, value.clone())));
    }

    /// The keys in insertion order (a repeated key appears once per value).
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|(key, _)| *key)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// `true` when no field was pushed.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The `application/x-www-form-urlencoded` text of the body.
    pub fn encode(&self) -> String {
        encode_pairs(self.fields.iter().map(|(k, v)| (*k, v.as_str())))
    }
}

impl fmt::Debug for FormBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormBody")
            .field("keys", &self.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The seed document's first EndUser create (business information), byte for byte. With
    /// `serde_json`'s `preserve_order` (enabled by this crate) the JSON keys keep the seed's order.
    #[test]
    fn seed_end_user_create_is_encoded_exactly() {
        let mut form = FormBody::new();
        form.push("FriendlyName", "friendly name");
        form.push("Type", "customer_profile_business_information");
        form.push_json(
            "Attributes",
            &json!({
                "business_name": "acme business",
                "social_media_profile_urls": "",
                "website_url": "test.com",
                "business_regions_of_operation": "USA_AND_CANADA",
                "business_type": "Partnership",
                "business_registration_identifier": "DUNS",
                "business_identity": "direct_customer",
                "business_industry": "EDUCATION",
                "business_registration_number": "123456789"
            }),
        );
        let expected = concat!(
            "FriendlyName=friendly%20name",
            "&Type=customer_profile_business_information",
            "&Attributes=%7B",
            "%22business_name%22%3A%22acme%20business%22%2C",
            "%22social_media_profile_urls%22%3A%22%22%2C",
            "%22website_url%22%3A%22test.com%22%2C",
            "%22business_regions_of_operation%22%3A%22USA_AND_CANADA%22%2C",
            "%22business_type%22%3A%22Partnership%22%2C",
            "%22business_registration_identifier%22%3A%22DUNS%22%2C",
            "%22business_identity%22%3A%22direct_customer%22%2C",
            "%22business_industry%22%3A%22EDUCATION%22%2C",
            "%22business_registration_number%22%3A%22123456789%22",
            "%7D"
        );
        assert_eq!(form.encode(), expected);
        assert_eq!(
            form.keys().collect::<Vec<_>>(),
            ["FriendlyName", "Type", "Attributes"]
        );
    }

    #[test]
    fn arrays_repeat_the_key_in_order() {
        let mut form = FormBody::new();
        form.push("A", "1");
        form.push_each(
            "PhoneNumberSids",
            &["PN1".to_owned(), "PN2".to_owned(), "PN3".to_owned()],
        );
        form.push("Z", "2");
        assert_eq!(
            form.encode(),
            "A=1&PhoneNumberSids=PN1&PhoneNumberSids=PN2&PhoneNumberSids=PN3&Z=2"
        );
        let mut empty = FormBody::new();
        empty.push_each("X", &[]);
        assert_eq!(empty.encode(), "");
        assert!(empty.is_empty());
    }

    #[test]
    fn bools_are_lowercase_words() {
        let mut form = FormBody::new();
        form.push_bool("Yes", true);
        form.push_bool("No", false);
        assert_eq!(form.encode(), "Yes=true&No=false");
    }

    #[test]
    fn space_is_percent_20_and_reserved_bytes_are_escaped() {
        assert_eq!(percent_encode("a b"), "a%20b");
        assert_eq!(percent_encode("a+b"), "a%2Bb");
        assert_eq!(percent_encode("-._~AZaz09"), "-._~AZaz09");
        assert_eq!(
            percent_encode("!*'();:@&=+$,/?#[]%\"<>"),
            "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25%22%3C%3E"
        );
        assert_eq!(percent_encode("\n\u{7f}"), "%0A%7F");
    }

    #[test]
    fn unicode_is_utf8_percent_encoded() {
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(
            percent_encode("Zürich 日本"),
            "Z%C3%BCrich%20%E6%97%A5%E6%9C%AC"
        );
        assert_eq!(percent_encode("😀"), "%F0%9F%98%80");
        let mut form = FormBody::new();
        form.push_json("Attributes", &json!({"city": "Zürich"}));
        assert_eq!(
            form.encode(),
            "Attributes=%7B%22city%22%3A%22Z%C3%BCrich%22%7D"
        );
    }

    #[test]
    fn debug_prints_keys_not_values() {
        let mut form = FormBody::new();
        form.push("Email", "jane.doe@example.com");
        form.push("PhoneNumber", "+15555550100");
        let debug = format!("{form:?}");
        assert!(debug.contains("Email") && debug.contains("PhoneNumber"));
        assert!(!debug.contains("jane.doe"), "{debug}");
        assert!(!debug.contains("5555550100"), "{debug}");
    }
}
