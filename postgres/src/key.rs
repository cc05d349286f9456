//! The store key: the one secret the ISV keeps outside the database. It encrypts each job's
//! input and keys every digest the database holds (the customer keys' and the journals' input
//! digests), so that a copy of the database alone reveals no customer and confirms no guess.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use trusthub::flow::DigestKey;

/// First line of a store key file.
const KEY_FILE_HEADER: &str = "trusthub postgres store key v1";

/// The HKDF salt: names this use of the secret (and its version).
const HKDF_SALT: &[u8] = b"trusthub-postgres store key v1";
/// HKDF info of the input encryption key.
const INFO_CIPHER: &[u8] = b"job input encryption (AES-256-GCM)";
/// HKDF info of the digest key.
const INFO_DIGEST: &[u8] = b"customer key and input digests (HMAC-SHA256)";

/// The first byte of an encrypted input: the format (AES-256-GCM, 96-bit nonce, 128-bit tag).
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The secret of a job store: 32 random bytes, from which two keys are derived with HKDF-SHA256
/// (salt `trusthub-postgres store key v1`):
///
/// - the AES-256-GCM key that encrypts each job's input (info `job input encryption
///   (AES-256-GCM)`), a fresh random 96-bit nonce per write;
/// - the [`DigestKey`] of the store (info `customer key and input digests (HMAC-SHA256)`): the
///   customer keys' digests (the jobs' unique key) and the journals' input digests.
///
/// Two keys from one secret, so that one file travels with the database; two derivations, so
/// that no key is used for two purposes. The database records the digest key's
/// [`id`](DigestKey::id) and refuses a queue connected with another key.
///
/// Keep the key file owner-only and out of the database's backups: with it, the inputs
/// decrypt; without it, no job can be run again (and none of its digests recognised).
///
/// `Debug` never shows the secret.
///
/// ```
/// use trusthub_postgres::StoreKey;
///
/// let dir = std::env::temp_dir().join(format!("trusthub-pg-doc-key-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("store.key");
/// let key = StoreKey::create(&path)?;
/// assert_eq!(StoreKey::load(&path)?.id(), key.id());
/// // Never overwritten: a second `create` is refused.
/// assert_eq!(StoreKey::create(&path).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
/// assert!(!format!("{key:?}").contains(&std::fs::read_to_string(&path)?.lines().nth(1).unwrap()));
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct StoreKey {
    cipher: [u8; 32],
    digest: DigestKey,
}

impl StoreKey {
    /// A new key from the operating system's secure random source.
    pub fn generate() -> io::Result<StoreKey> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(StoreKey::from_secret(secret))
    }

    /// The key of a 32-byte secret (kept elsewhere than in a key file: a secret manager).
    pub fn from_secret(secret: [u8; 32]) -> StoreKey {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), &secret);
        let mut cipher = [0u8; 32];
        let mut digest = [0u8; 32];
        hkdf.expand(INFO_CIPHER, &mut cipher)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        hkdf.expand(INFO_DIGEST, &mut digest)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        StoreKey {
            cipher,
            digest: DigestKey::from_bytes(digest),
        }
    }

    /// Creates a new key and writes it to `path`, readable by its owner only (mode 0600 on
    /// Unix). Never overwrites: an existing file is refused with
    /// [`io::ErrorKind::AlreadyExists`] (it may be the key of a database).
    pub fn create(path: impl AsRef<Path>) -> io::Result<StoreKey> {
        let path = path.as_ref();
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
        write_new(path, &format!("{KEY_FILE_HEADER}\n{}\n", hex(&secret))).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{} exists: a store key is never overwritten (it may be the key of a \
                         database); load it, or choose another path",
                        path.display()
                    ),
                )
            } else {
                io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
            }
        })?;
        Ok(StoreKey::from_secret(secret))
    }

    /// Loads the key written by [`StoreKey::create`] at `path`.
    pub fn load(path: impl AsRef<Path>) -> io::Result<StoreKey> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        let mut lines = text.lines();
        if lines.next() != Some(KEY_FILE_HEADER) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a trusthub-postgres store key (its first line is not \
                     `{KEY_FILE_HEADER}`)",
                    path.display()
                ),
            ));
        }
        let secret = parse_hex(lines.next().unwrap_or_default()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: the second line of a store key is 64 hexadecimal digits",
                    path.display()
                ),
            )
        })?;
        Ok(StoreKey::from_secret(secret))
    }

    /// The digest key of the store: the customer keys' digests and the journals' input digests.
    pub fn digest_key(&self) -> &DigestKey {
        &self.digest
    }

    /// A name of the key that reveals nothing of it: its digest key's [`id`](DigestKey::id).
    pub fn id(&self) -> String {
        self.digest.id()
    }

    /// The digest a customer key is stored under (32 hex digits of HMAC-SHA256).
    pub fn customer_digest(&self, customer_key: &str) -> String {
        self.digest.digest("customer", customer_key.as_bytes())
    }

    /// Encrypts `plain` for the row of `customer` (a customer digest): `1 ‖ nonce ‖ ciphertext ‖
    /// tag`, the customer digest as associated data (a row's input does not decrypt in another
    /// row).
    pub(crate) fn seal(&self, customer: &str, plain: &[u8]) -> io::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|e| io::Error::other(e.to_string()))?;
        let cipher = Aes256Gcm::new_from_slice(&self.cipher).expect("a 32-byte key");
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad(customer),
                },
            )
            .map_err(|_| io::Error::other("the input could not be encrypted"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) wrote for `customer`; `None` when it does not
    /// decrypt (another key, another row, altered bytes).
    pub(crate) fn open(&self, customer: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEALED_V1 {
            return None;
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new_from_slice(&self.cipher).expect("a 32-byte key");
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad(customer),
                },
            )
            .ok()
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey(id {})", self.id())
    }
}

fn aad(customer: &str) -> Vec<u8> {
    let mut aad = b"trusthub-postgres job input v1\0".to_vec();
    aad.extend_from_slice(customer.as_bytes());
    aad
}

/// Writes a new owner-only file at `path`, refusing an existing one: through a temporary file
/// beside it, hard-linked into place (atomic, and never replacing), then `fsync` of the
/// directory.
fn write_new(path: &Path, contents: &str) -> io::Result<()> {
    if path.exists() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let _ = fs::remove_file(&temp);
    {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
    }
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    linked?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_input_opens_only_in_its_row_and_with_its_key() {
        let key = StoreKey::generate().unwrap();
        let sealed = key.seal("c1", b"555 Main Street").unwrap();
        assert_eq!(key.open("c1", &sealed).unwrap(), b"555 Main Street");
        assert!(!sealed.windows(4).any(|w| w == b"Main"));
        // A fresh nonce per write: the same input never encrypts the same way twice.
        assert_ne!(key.seal("c1", b"555 Main Street").unwrap(), sealed);
        assert_eq!(key.open("c2", &sealed), None, "another row");
        assert_eq!(StoreKey::generate().unwrap().open("c1", &sealed), None);
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open("c1", &altered), None);
        assert_eq!(key.open("c1", &sealed[..10]), None);
    }

    #[test]
    fn the_two_derived_keys_differ_from_each_other_and_from_the_secret() {
        let secret = [7u8; 32];
        let key = StoreKey::from_secret(secret);
        assert_ne!(key.cipher, secret);
        assert_ne!(key.digest, DigestKey::from_bytes(secret));
        assert_ne!(key.digest, DigestKey::from_bytes(key.cipher));
        assert_eq!(StoreKey::from_secret(secret).id(), key.id());
        assert!(!format!("{key:?}").contains(&hex(&secret)));
    }

    #[test]
    fn a_key_file_is_owner_only_and_checked_on_loading() {
        let dir = std::env::temp_dir().join(format!("trusthub-pg-key-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.key");
        let key = StoreKey::create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(StoreKey::load(&path).unwrap().id(), key.id());
        let again = StoreKey::create(&path).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert!(again.to_string().contains("never overwritten"), "{again}");
        fs::write(&path, "something else\n").unwrap();
        let wrong = StoreKey::load(&path).unwrap_err();
        assert!(
            wrong
                .to_string()
                .contains("not a trusthub-postgres store key"),
            "{wrong}"
        );
        fs::write(&path, format!("{KEY_FILE_HEADER}\nabc\n")).unwrap();
        let short = StoreKey::load(&path).unwrap_err();
        assert!(
            short.to_string().contains("64 hexadecimal digits"),
            "{short}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
