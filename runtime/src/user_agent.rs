//! The `User-Agent` header: `<product>/<version> (<os> <arch>) rust/<rustc version>[ <ext>...]`,
//! e.g. `trusthub/0.1.0 (linux x86_64) rust/1.95.0`.

use crate::error::Error;

/// The version of `rustc` that built this crate, captured by `build.rs` (`unknown` if it could
/// not be run).
pub const RUSTC_VERSION: &str = env!("TRUSTHUB_RUSTC_VERSION");

/// The default product name.
pub const DEFAULT_PRODUCT: &str = "trusthub-runtime";

/// The default product version: this crate's version.
pub const DEFAULT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds the header value. `product` and `version` must be non-empty visible ASCII without
/// spaces or `/`; each extension non-empty visible ASCII (spaces allowed inside).
///
/// ```
/// let ua = trusthub_runtime::user_agent::user_agent("trusthub", "0.1.0", &["my-isv/2.0".to_owned()])?;
/// assert!(ua.starts_with("trusthub/0.1.0 ("));
/// assert!(ua.ends_with(" my-isv/2.0"));
/// # Ok::<(), trusthub_runtime::Error>(())
/// ```
pub fn user_agent(product: &str, version: &str, extensions: &[String]) -> Result<String, Error> {
    check_token("user agent product name", product)?;
    check_token("user agent product version", version)?;
    let mut value = format!(
        "{product}/{version} ({} {}) rust/{RUSTC_VERSION}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    for extension in extensions {
        let ok = !extension.trim().is_empty()
            && extension.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
        if !ok {
            return Err(Error::config(
                "user agent extension must be non-empty visible ASCII (spaces allowed)".to_owned(),
            ));
        }
        value.push(' ');
        value.push_str(extension.trim());
    }
    Ok(value)
}

fn check_token(what: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{what} must be non-empty visible ASCII without spaces or '/'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_product_platform_rust_extensions() {
        let ua = user_agent("trusthub", "0.1.0", &["a/1".to_owned(), "b c".to_owned()]).unwrap();
        let expected = format!(
            "trusthub/0.1.0 ({} {}) rust/{} a/1 b c",
            std::env::consts::OS,
            std::env::consts::ARCH,
            RUSTC_VERSION
        );
        assert_eq!(ua, expected);
        assert!(RUSTC_VERSION
            .split('.')
            .take(2)
            .all(|part| part.parse::<u32>().is_ok()));
    }

    #[test]
    fn bad_parts_are_config_errors() {
        assert!(user_agent("", "1", &[]).is_err());
        assert!(user_agent("a b", "1", &[]).is_err());
        assert!(user_agent("a", "1/2", &[]).is_err());
        assert!(user_agent("a", "1", &["x\r\nInjected: 1".to_owned()]).is_err());
        assert!(user_agent("a", "1", &[" ".to_owned()]).is_err());
    }
}
