//! SIDs: two ASCII letters followed by 32 hexadecimal digits.
//!
//! The emulator mints SIDs from one seeded generator (`fastrand::Rng::with_seed(config.seed)`), so a given
//! seed and the same sequence of requests always yield the same SIDs.

/// Length of every SID: a two-letter prefix and 32 hex digits.
pub const SID_LEN: usize = 34;

/// Mints a SID with `prefix` and 32 lowercase hex digits from `rng`.
pub(crate) fn generate(rng: &mut fastrand::Rng, prefix: &str) -> String {
    format!("{prefix}{:032x}", rng.u128(..))
}

/// Whether `value` matches `^{prefix}[0-9a-fA-F]{32}$`.
pub fn has_prefix_shape(value: &str, prefix: &str) -> bool {
    value.len() == SID_LEN && value.starts_with(prefix) && is_object_sid(value)
}

/// Whether `value` matches `^[a-zA-Z]{2}[0-9a-fA-F]{32}$` (the spec's generic object SID pattern).
pub fn is_object_sid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == SID_LEN
        && bytes[..2].iter().all(u8::is_ascii_alphabetic)
        && bytes[2..].iter().all(u8::is_ascii_hexdigit)
}

/// Describes a value that failed a SID pattern without echoing it in full: its length, and its first two
/// characters when they are ASCII letters (a prefix, never personal data).
pub(crate) fn describe(value: &str) -> String {
    let chars = value.chars().count();
    let prefix: String = value.chars().take(2).collect();
    if prefix.len() == 2 && prefix.chars().all(|c| c.is_ascii_alphabetic()) {
        format!("{chars} characters starting with '{prefix}'")
    } else {
        format!("{chars} characters")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sids_have_the_pattern_and_repeat_under_a_seed() {
        let mut a = fastrand::Rng::with_seed(7);
        let mut b = fastrand::Rng::with_seed(7);
        let first = generate(&mut a, "BU");
        assert!(has_prefix_shape(&first, "BU"));
        assert_eq!(first, generate(&mut b, "BU"));
        assert_ne!(generate(&mut a, "BU"), first);
        assert!(first[2..]
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }

    #[test]
    fn shapes_are_checked() {
        assert!(has_prefix_shape("RNdfbf3fae0e1107f8aded0e7cead80bf5", "RN"));
        assert!(!has_prefix_shape(
            "RNdfbf3fae0e1107f8aded0e7cead80bf5",
            "BU"
        ));
        assert!(!has_prefix_shape("RNdfbf3fae0e1107f8aded0e7cead80bf", "RN"));
        assert!(!has_prefix_shape(
            "RNdfbf3fae0e1107f8aded0e7cead80bfz",
            "RN"
        ));
        assert!(is_object_sid("xyDFBF3FAE0E1107F8ADED0E7CEAD80BF5"));
        assert!(!is_object_sid("1ydfbf3fae0e1107f8aded0e7cead80bf5"));
        assert_eq!(describe("XX12"), "4 characters starting with 'XX'");
        assert_eq!(describe("12"), "2 characters");
    }
}
