//! TLS to PostgreSQL over rustls (the ring provider, as the rest of the workspace): a
//! `MakeTlsConnect` of tokio-postgres whose handshake verifies the server's certificate chain
//! against the webpki roots (Mozilla's) or the CA file of [`PgOptions::ca_file`](crate::PgOptions),
//! and the certificate's names against the host connected to. No handshake is ever left
//! unverified.
//!
//! `sslmode` (the URL's) decides whether TLS is used: `disable` never, `require` always (a server
//! without TLS, or whose certificate does not verify, is refused), `prefer` (the default, as
//! libpq's) when the server offers it; with `prefer`, a handshake that fails (a certificate that
//! does not verify) falls back to a plain connection, as libpq does, with a warning. A CA file
//! turns `prefer` into `require`. Unix sockets never use TLS (PostgreSQL does not speak it
//! there), whatever `sslmode` says.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use sha2::{Digest, Sha256, Sha384, Sha512};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_postgres::{Client, Config, Connection, Socket};

use crate::Error;

/// How the queue's connections speak TLS: the rustls configuration, and whether the warning of
/// a `prefer` fallback was given.
pub(crate) struct Tls {
    rustls: Arc<ClientConfig>,
    ca_file: Option<Arc<PathBuf>>,
    warned: AtomicBool,
}

/// Parses the database URL (a `postgresql://` URL or `key=value` settings). The error never
/// shows the URL (it may hold a password); it names libpq's TLS settings that tokio-postgres
/// does not know, with what to use instead.
pub(crate) fn parse(url: &str) -> Result<Config, Error> {
    url.parse::<Config>().map_err(|e| {
        let cause = StdError::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default();
        let hint = if cause == "invalid value for option `sslmode`" {
            " (sslmode is disable, prefer or require here: libpq's verify-ca and verify-full \
             are spelled sslmode=require, which always verifies the certificate's chain and \
             host name; a private CA is given as PgOptions::ca_file, the trusthub command's \
             --store-ca FILE)"
                .to_owned()
        } else if let Some(option) = cause
            .strip_prefix("unknown option `")
            .and_then(|rest| rest.strip_suffix('`'))
            .filter(|option| LIBPQ_TLS_OPTIONS.contains(option))
        {
            if option == "sslrootcert" {
                " (sslrootcert is not read from the URL: give the CA file as PgOptions::ca_file, \
                 the trusthub command's --store-ca FILE)"
                    .to_owned()
            } else {
                format!(" ({option} is not supported: no client certificates or CRLs)")
            }
        } else {
            String::new()
        };
        Error::Config(format!(
            "the database URL does not parse as a PostgreSQL URL or key=value settings (it is \
             not shown: it may hold a password){hint}"
        ))
    })
}

/// libpq's TLS settings that tokio-postgres refuses as unknown.
const LIBPQ_TLS_OPTIONS: &[&str] = &[
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
];

/// Reads the trust anchors (`ca_file`'s certificates, else the webpki roots), settles the TLS
/// mode of `config` (see the module's docs) and returns the configuration to connect with.
pub(crate) fn prepare(mut config: Config, ca_file: Option<&Path>) -> Result<(Config, Tls), Error> {
    let roots = match ca_file {
        Some(path) => read_ca_file(path)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    if let Some(path) = ca_file {
        match config.get_ssl_mode() {
            SslMode::Disable => {
                return Err(Error::Config(format!(
                    "a CA file to verify the database's certificate was given ({}), and the \
                     database URL says sslmode=disable (no TLS): drop one of them",
                    path.display()
                )));
            }
            // Trusting a CA asks for verified TLS: no plain fallback.
            SslMode::Prefer => {
                config.ssl_mode(SslMode::Require);
            }
            _ => {}
        }
    }
    // tokio-postgres checks a certificate against `host` (`hostaddr` only says where to connect):
    // with no TCP host there is nothing to check it against.
    let named = config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(_)));
    if !named && config.get_ssl_mode() != SslMode::Disable {
        let sockets_only = !config.get_hosts().is_empty() && config.get_hostaddrs().is_empty();
        if !sockets_only && config.get_ssl_mode() == SslMode::Require {
            return Err(Error::Config(
                "the database URL requires TLS (sslmode=require, or a CA file was given) but \
                 names no host: the server's certificate is checked against `host`, and \
                 `hostaddr` is only where to connect; add host=NAME (a name the certificate is \
                 issued for)"
                    .into(),
            ));
        }
        // Unix sockets: PostgreSQL never speaks TLS there (libpq ignores sslmode for them too).
        config.ssl_mode(SslMode::Disable);
    }
    let mut rustls =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("cannot set up TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    // PostgreSQL 17's direct TLS (sslnegotiation=direct) requires it; older servers ignore it.
    rustls.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok((
        config,
        Tls {
            rustls: Arc::new(rustls),
            ca_file: ca_file.map(|path| Arc::new(path.to_path_buf())),
            warned: AtomicBool::new(false),
        },
    ))
}

/// The certificates of a PEM file, as the only trust anchors.
fn read_ca_file(path: &Path) -> Result<RootCertStore, Error> {
    let what = |why: String| {
        Error::Config(format!(
            "the CA file {} {why}: give a readable PEM file of the CA certificate(s) that signed \
             the database server's certificate",
            path.display()
        ))
    };
    let pem = std::fs::read(path).map_err(|e| what(format!("cannot be read ({e})")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| what(format!("is not valid PEM ({e})")))?;
        roots
            .add(cert)
            .map_err(|e| what(format!("holds a certificate that does not parse ({e})")))?;
    }
    if roots.is_empty() {
        return Err(what(
            "holds no certificate (no -----BEGIN CERTIFICATE----- block)".into(),
        ));
    }
    Ok(roots)
}

/// A connection as tokio-postgres makes it with this module's TLS.
pub(crate) type PgConnection = Connection<Socket, RustlsStream>;

impl Tls {
    fn connector(&self) -> MakeRustls {
        MakeRustls {
            config: self.rustls.clone(),
            ca_file: self.ca_file.clone(),
        }
    }

    /// Opens a connection as `config` says; with `sslmode=prefer`, a failed handshake is tried
    /// again without TLS (once warned about). Errors say what failed and what to do, never the
    /// URL.
    pub(crate) async fn connect(&self, config: &Config) -> Result<(Client, PgConnection), Error> {
        let failed = match config.connect(self.connector()).await {
            Ok(connected) => return Ok(connected),
            Err(e) => e,
        };
        let reason = match handshake_error(&failed) {
            Some(handshake) if config.get_ssl_mode() == SslMode::Prefer => handshake.to_string(),
            _ => return Err(self.explain(failed)),
        };
        let mut plain = config.clone();
        plain.ssl_mode(SslMode::Disable);
        match plain.connect(self.connector()).await {
            Ok(connected) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        %reason,
                        "the job store's database offered TLS and the handshake failed; \
                         connected without TLS, as sslmode=prefer allows: trust the database's \
                         CA (PgOptions::ca_file, the trusthub command's --store-ca FILE), which \
                         also refuses plain connections, or use sslmode=disable on a trusted \
                         network"
                    );
                }
                Ok(connected)
            }
            Err(e) => {
                let plain = match self.explain(e) {
                    Error::Connect(why) => why,
                    other => other.to_string(),
                };
                Err(Error::Connect(format!(
                    "{reason}; and without TLS (sslmode=prefer tries that next): {plain}"
                )))
            }
        }
    }

    /// A failed connection attempt, explained: a handshake's failure or a server without TLS
    /// in words of what to do; anything else as tokio-postgres says it.
    fn explain(&self, e: tokio_postgres::Error) -> Error {
        if let Some(ours) = handshake_error(&e) {
            return Error::Connect(ours.to_string());
        }
        // tokio-postgres's text when the server answers the TLS request with no (TLS required).
        let no_tls =
            StdError::source(&e).is_some_and(|s| s.to_string() == "server does not support TLS");
        if no_tls {
            let asked = match &self.ca_file {
                Some(path) => format!(
                    "a CA file to verify it with was given ({}), which asks for TLS",
                    path.display()
                ),
                None => "the database URL requires it (sslmode=require)".to_owned(),
            };
            return Error::Connect(format!(
                "the database server does not offer TLS, and {asked}: turn TLS on at the server \
                 (ssl=on with a certificate and key), or, for a unix socket or a trusted \
                 network only, connect without TLS (no CA file, sslmode=disable)"
            ));
        }
        Error::connect(e)
    }
}

/// Our handshake's error, if `e` is one.
fn handshake_error(e: &tokio_postgres::Error) -> Option<&HandshakeError> {
    let mut source = StdError::source(e);
    while let Some(cause) = source {
        if let Some(ours) = cause.downcast_ref::<HandshakeError>() {
            return Some(ours);
        }
        source = cause.source();
    }
    None
}

/// The `MakeTlsConnect` of the queue's connections.
#[derive(Clone)]
struct MakeRustls {
    config: Arc<ClientConfig>,
    ca_file: Option<Arc<PathBuf>>,
}

/// One handshake, with the host name the certificate must name.
pub(crate) struct RustlsConnect {
    config: Arc<ClientConfig>,
    ca_file: Option<Arc<PathBuf>>,
    host: String,
}

impl MakeTlsConnect<Socket> for MakeRustls {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnect;
    type Error = HandshakeError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, HandshakeError> {
        // Called for every host before the server is asked, a unix socket's too (with no name):
        // the name is checked at the handshake, which tokio-postgres never starts without one.
        Ok(RustlsConnect {
            config: self.config.clone(),
            ca_file: self.ca_file.clone(),
            host: domain.to_owned(),
        })
    }
}

impl TlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type Error = HandshakeError;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream, HandshakeError>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            // An IPv6 address may come bracketed, as in a URL.
            let bare = self.host.trim_start_matches('[').trim_end_matches(']');
            let name = match bare.parse::<IpAddr>() {
                Ok(ip) => ServerName::IpAddress(ip.into()),
                Err(_) => ServerName::try_from(bare.to_owned()).map_err(|_| HandshakeError {
                    message: format!(
                        "TLS to the database: the host {:?} is neither a DNS name nor an IP \
                         address, so no certificate can name it",
                        self.host
                    ),
                })?,
            };
            let connector = tokio_rustls::TlsConnector::from(self.config);
            match connector.connect(name, stream).await {
                Ok(stream) => Ok(RustlsStream(Box::new(stream))),
                Err(e) => Err(HandshakeError::new(
                    &e,
                    &self.host,
                    self.ca_file.as_deref().map(PathBuf::as_path),
                )),
            }
        })
    }
}

/// Why a TLS handshake with the database failed, and what to do.
#[derive(Debug)]
pub(crate) struct HandshakeError {
    message: String,
}

impl HandshakeError {
    fn new(e: &io::Error, host: &str, ca_file: Option<&Path>) -> HandshakeError {
        let rustls_error = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        let trust = match ca_file {
            Some(path) => format!(
                "it is not signed by a CA of {}: give the CA file that signed the server's \
                 certificate",
                path.display()
            ),
            None => "it is not signed by a CA of the webpki roots (Mozilla's): trust the CA \
                     that signed it (a private or self-signed cluster CA, a managed service's \
                     CA bundle) with PgOptions::ca_file (the trusthub command's --store-ca FILE)"
                .to_owned(),
        };
        let message = match rustls_error {
            Some(rustls::Error::InvalidCertificate(cert)) => {
                let why = match cert {
                    CertificateError::UnknownIssuer
                    | CertificateError::BadSignature
                    | CertificateError::UnhandledCriticalExtension => trust,
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. } => format!(
                        "it does not name the host connected to ({host}): connect with a name \
                         the certificate holds (its subject alternative names), or issue it for \
                         this one"
                    ),
                    CertificateError::Expired
                    | CertificateError::ExpiredContext { .. }
                    | CertificateError::NotValidYet
                    | CertificateError::NotValidYetContext { .. } => {
                        "it is expired or not yet valid: renew it, or check this machine's \
                         clock"
                            .to_owned()
                    }
                    _ => trust,
                };
                format!("the database server's TLS certificate did not verify ({cert:?}): {why}")
            }
            Some(other) => format!("the TLS handshake with the database server failed: {other}"),
            None => format!("the TLS handshake with the database server failed: {e}"),
        };
        HandshakeError { message }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for HandshakeError {}

/// A TLS connection to the database.
pub(crate) struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl TlsStream for RustlsStream {
    /// `tls-server-end-point` (RFC 5929): the hash of the server's certificate, by the hash of
    /// its signature (SHA-256 for MD5 and SHA-1), for SCRAM-SHA-256-PLUS. None for a signature
    /// without one hash (RSA-PSS, Ed25519): SCRAM then goes without channel binding.
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|cert| server_end_point(cert))
            .map(ChannelBinding::tls_server_end_point)
            .unwrap_or_else(ChannelBinding::none)
    }
}

/// The hash of a DER certificate by the hash algorithm of its signature (RFC 5929, 4.1).
fn server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm
    // AlgorithmIdentifier, signature BIT STRING }; AlgorithmIdentifier ::= SEQUENCE { OID, .. }
    let (certificate, _) = der(cert, 0x30)?;
    let (_, rest) = der(certificate, 0x30)?;
    let (algorithm, _) = der(rest, 0x30)?;
    let (oid, _) = der(algorithm, 0x06)?;
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01]; // 1.2.840.113549.1.1
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04]; // 1.2.840.10045.4
    let hash: fn(&[u8]) -> Vec<u8> = match oid {
        // md5WithRSAEncryption, sha1WithRSAEncryption, sha256WithRSAEncryption, ecdsa-with-SHA1,
        // ecdsa-with-SHA256.
        [r @ .., 4 | 5 | 11] if r == RSA => |c| Sha256::digest(c).to_vec(),
        [e @ .., 1] if e == ECDSA => |c| Sha256::digest(c).to_vec(),
        [e @ .., 3, 2] if e == ECDSA => |c| Sha256::digest(c).to_vec(),
        // sha384WithRSAEncryption, ecdsa-with-SHA384.
        [r @ .., 12] if r == RSA => |c| Sha384::digest(c).to_vec(),
        [e @ .., 3, 3] if e == ECDSA => |c| Sha384::digest(c).to_vec(),
        // sha512WithRSAEncryption, ecdsa-with-SHA512.
        [r @ .., 13] if r == RSA => |c| Sha512::digest(c).to_vec(),
        [e @ .., 3, 4] if e == ECDSA => |c| Sha512::digest(c).to_vec(),
        _ => return None,
    };
    Some(hash(cert))
}

/// One DER element of tag `tag` at the start of `input`: its contents and what follows it.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = if len < 0x80 {
        (usize::from(len), rest)
    } else {
        let octets = usize::from(len & 0x7f);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let (bytes, rest) = rest.split_at(octets);
        let len = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::{der, server_end_point};
    use sha2::{Digest, Sha256, Sha384, Sha512};

    /// A certificate's outline: an empty tbsCertificate, the signature algorithm `oid`, an
    /// empty signature.
    fn certificate(oid: &[u8]) -> Vec<u8> {
        let mut algorithm = vec![0x06, oid.len() as u8];
        algorithm.extend(oid);
        let mut body = vec![0x30, 0x00, 0x30, algorithm.len() as u8];
        body.extend(algorithm);
        body.extend([0x03, 0x01, 0x00]);
        let mut cert = vec![0x30, body.len() as u8];
        cert.extend(body);
        cert
    }

    #[test]
    fn the_end_point_hash_follows_the_signature_algorithm() {
        const RSA: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
        const ECDSA: [u8; 6] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
        type Hash = fn(&[u8]) -> Vec<u8>;
        let sha256: Hash = |c| Sha256::digest(c).to_vec();
        let sha384: Hash = |c| Sha384::digest(c).to_vec();
        let sha512: Hash = |c| Sha512::digest(c).to_vec();
        let cases: [(Vec<u8>, Hash); 9] = [
            ([&RSA[..], &[4]].concat(), sha256), // md5WithRSAEncryption
            ([&RSA[..], &[5]].concat(), sha256), // sha1WithRSAEncryption
            ([&RSA[..], &[11]].concat(), sha256),
            ([&RSA[..], &[12]].concat(), sha384),
            ([&RSA[..], &[13]].concat(), sha512),
            ([&ECDSA[..], &[1]].concat(), sha256), // ecdsa-with-SHA1
            ([&ECDSA[..], &[3, 2]].concat(), sha256),
            ([&ECDSA[..], &[3, 3]].concat(), sha384),
            ([&ECDSA[..], &[3, 4]].concat(), sha512),
        ];
        for (oid, hash) in cases {
            let cert = certificate(&oid);
            assert_eq!(server_end_point(&cert), Some(hash(&cert)), "{oid:02x?}");
        }
        // RSASSA-PSS (its hash is in its parameters), Ed25519: no channel binding.
        assert_eq!(
            server_end_point(&certificate(&[&RSA[..], &[10]].concat())),
            None
        );
        assert_eq!(server_end_point(&certificate(&[0x2b, 0x65, 0x70])), None);
        assert_eq!(server_end_point(b"not DER"), None);
    }

    #[test]
    fn der_reads_short_and_long_lengths_and_refuses_truncation() {
        assert_eq!(
            der(&[0x30, 2, 1, 2, 9], 0x30),
            Some((&[1u8, 2][..], &[9u8][..]))
        );
        let mut long = vec![0x04, 0x81, 200];
        long.extend([7u8; 200]);
        assert_eq!(
            der(&long, 0x04).map(|(c, r)| (c.len(), r.len())),
            Some((200, 0))
        );
        assert_eq!(der(&[0x30, 3, 1, 2], 0x30), None);
        assert_eq!(der(&[0x31, 0], 0x30), None);
        assert_eq!(der(&[0x30, 0x80], 0x30), None);
    }
}
