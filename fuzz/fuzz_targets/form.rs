//! The form encoder: arbitrary fields (text, booleans, arrays, JSON `Attributes`) encoded by
//! `FormBody` and decoded again by the facade's form decoder give back exactly the fields, in
//! order; the encoding only holds unreserved bytes and `%XX`. Arbitrary bytes given to the
//! decoder and to the status-callback parser give values or typed errors, never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trusthub::api::runtime::{percent_encode, FormBody};
use trusthub::signature::{decode_form, StatusCallbackEvent};

const KEYS: [&str; 8] = [
    "FriendlyName",
    "Attributes",
    "PhoneNumberSids",
    "Status",
    "a b&c=d",
    "Ünïcödé 日本",
    "",
    "%2B+",
];

fuzz_target!(|data: &[u8]| {
    // The decoder and the callback parser on raw bytes.
    if let Ok(pairs) = decode_form(data) {
        let _ = StatusCallbackEvent::from_form(&pairs);
    }

    // Fields from the input: [selector byte, text until the next 0xFF byte]...
    let mut form = FormBody::new();
    let mut expected: Vec<(String, String)> = Vec::new();
    for piece in data.split(|&b| b == 0xFF) {
        let Some((&selector, rest)) = piece.split_first() else {
            continue;
        };
        let key = KEYS[usize::from(selector) % KEYS.len()];
        let value = String::from_utf8_lossy(rest).into_owned();
        match selector % 4 {
            0 => {
                form.push(key, &value);
                expected.push((key.to_owned(), value));
            }
            1 => {
                form.push_bool(key, rest.len() % 2 == 0);
                expected.push((key.to_owned(), (rest.len() % 2 == 0).to_string()));
            }
            2 => {
                let values: Vec<String> = value.split(',').map(str::to_owned).collect();
                form.push_each(key, &values);
                expected.extend(values.into_iter().map(|v| (key.to_owned(), v)));
            }
            _ => {
                let json = serde_json::json!({ "business_name": value, "n": rest.len() });
                form.push_object(key, &json);
                let text = json.to_string();
                // What is sent is JSON that parses back to the same object.
                assert_eq!(
                    serde_json::from_str::<serde_json::Value>(&text).ok(),
                    Some(json)
                );
                expected.push((key.to_owned(), text));
            }
        }
    }
    let encoded = form.encode();
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%&=".contains(&b)),
        "{encoded}"
    );
    let decoded = decode_form(encoded.as_bytes()).expect("our own encoding decodes");
    // The decoder skips empty `&&` pieces; a field is never empty (it has at least `=`).
    assert_eq!(decoded, expected);
    assert_eq!(form.len(), expected.len());
    let one = String::from_utf8_lossy(data);
    let escaped = percent_encode(&one);
    let back = decode_form(format!("k={escaped}").as_bytes()).expect("decodes");
    assert_eq!(back, vec![("k".to_owned(), one.into_owned())]);
});
