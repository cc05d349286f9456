//! Keyed digests of a flow's input: how a journal recognises the input it was written for without
//! holding anything that reveals it.
//!
//! A journal keeps, for each part of the input (the bundle's fields, each end user, the address,
//! the primary profile), HMAC-SHA256 under a secret [`DigestKey`] that the journal store keeps
//! apart from the journal (a file store: a `.key` file beside it, readable by its owner only).
//! Without the key, a digest confirms nothing: a guessed EIN or email cannot be tested against a
//! journal offline, as an unkeyed hash would allow.

use std::fmt;
use std::io;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret key of the input digests of a journal store (32 random bytes).
///
/// `Debug` never shows it; [`DigestKey::id`] names it without revealing it.
///
/// ```
/// use trusthub::flow::DigestKey;
///
/// let key = DigestKey::generate()?;
/// let same = DigestKey::from_hex(&key.to_hex())?;
/// assert_eq!(key.id(), same.id());
/// assert_eq!(key.digest("address", b"555 Main Street"), same.digest("address", b"555 Main Street"));
/// // Another key gives other digests: without the key nothing can be confirmed.
/// let other = DigestKey::generate()?;
/// assert_ne!(key.digest("address", b"555 Main Street"), other.digest("address", b"555 Main Street"));
/// assert!(!format!("{key:?}").contains(&key.to_hex()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DigestKey([u8; 32]);

impl DigestKey {
    /// A new key from the operating system's secure random source.
    pub fn generate() -> io::Result<DigestKey> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(DigestKey(bytes))
    }

    /// A key for journals that never leave this process: from the secure random source, or,
    /// should it fail, from the standard library's per-process random hasher seeds.
    pub(crate) fn ephemeral() -> DigestKey {
        DigestKey::generate().unwrap_or_else(|_| {
            use std::hash::{BuildHasher, Hasher};
            let mut bytes = [0u8; 32];
            for (i, chunk) in bytes.chunks_mut(8).enumerate() {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(i);
                chunk.copy_from_slice(&h.finish().to_le_bytes());
            }
            DigestKey(bytes)
        })
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> DigestKey {
        DigestKey(bytes)
    }

    /// A key from 64 hexadecimal digits (as [`DigestKey::to_hex`] writes it).
    pub fn from_hex(text: &str) -> io::Result<DigestKey> {
        let text = text.trim();
        let invalid = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a digest key is 64 hexadecimal digits; found {} characters",
                    text.chars().count()
                ),
            )
        };
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
        }
        Ok(DigestKey(bytes))
    }

    /// The key as 64 hexadecimal digits (what a key file holds).
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// A name for the key that reveals nothing of it (16 hex digits): a journal records the id of
    /// the key its digests were made with, so a journal resumed with another key is told apart
    /// from a journal resumed with other input.
    pub fn id(&self) -> String {
        self.mac(b"trusthub key id", b"")[..16].to_owned()
    }

    /// The digest of one part of an input (32 hex digits: 128 bits of HMAC-SHA256).
    pub fn digest(&self, part: &str, bytes: &[u8]) -> String {
        self.mac(part.as_bytes(), bytes)[..32].to_owned()
    }

    fn mac(&self, label: &[u8], bytes: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(&(label.len() as u64).to_be_bytes());
        mac.update(label);
        mac.update(bytes);
        hex(&mac.finalize().into_bytes())
    }
}

impl fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DigestKey(id {})", self.id())
    }
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Builds the bytes of one input part: fields separated so that `("ab", "c")` and `("a", "bc")`
/// differ.
#[derive(Default)]
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    pub(crate) fn put(&mut self, field: &str) -> &mut Self {
        self.0
            .extend_from_slice(&(field.len() as u64).to_be_bytes());
        self.0.extend_from_slice(field.as_bytes());
        self
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}
