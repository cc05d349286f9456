//! TLS to PostgreSQL: clusters with `ssl=on` and a certificate made here (a CA of the test's own
//! and a server certificate it signed), and clusters without TLS.

use std::path::PathBuf;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use trusthub::flow::JournalStore;
use trusthub_postgres::conformance::journal;
use trusthub_postgres::{Error, JobState, Outcome, PgOptions, PgQueue, StoreKey};

use crate::support::{Cluster, ServerTls};

const LEASE: Duration = Duration::from_secs(60);

/// A CA (its certificate, PEM) and a server certificate it signed for `names`.
fn certificates(names: &[&str]) -> (String, ServerTls) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "trusthub test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);

    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut server = CertificateParams::new(names).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "trusthub test server");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&server_key, &issuer).unwrap();
    (
        ca_pem,
        ServerTls {
            cert_pem: cert.pem(),
            key_pem: server_key.serialize_pem(),
        },
    )
}

/// Writes `pem` to `name` in the cluster's directory; returns its path.
fn ca_file(cluster: &Cluster, name: &str, pem: &str) -> PathBuf {
    let path = cluster.dir().join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

fn trusting(path: PathBuf) -> PgOptions {
    let mut options = PgOptions::default();
    options.ca_file = Some(path);
    options
}

/// Whether the backends of database `db` (the queue's connections: the test's own client is
/// on another database) use TLS: (with TLS, without).
async fn backends(cluster: &Cluster, db: &str) -> (i64, i64) {
    let row = cluster
        .client("postgres")
        .await
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1 AND a.backend_type = 'client backend'",
            &[&db],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn require_with_the_ca_trusted_is_verified_tls_end_to_end() {
    let (ca, tls) = certificates(&["localhost", "127.0.0.1"]);
    let cluster = Cluster::start_tls(&tls);
    let url = cluster.database("tls").await;
    let ca = ca_file(&cluster, "ca.pem", &ca);
    // channel_binding=require: SCRAM-SHA-256-PLUS bound to the server's certificate, or no
    // connection (the server checks the certificate hash this client sends).
    let queue = PgQueue::connect_with(
        &format!("{url}?sslmode=require&channel_binding=require"),
        StoreKey::generate().unwrap(),
        trusting(ca.clone()),
    )
    .await
    .unwrap();
    let job = queue.enqueue("crm-1", b"input").await.unwrap().job();
    let mut lease = queue.lease("worker-a:1", LEASE).await.unwrap().unwrap();
    assert_eq!(lease.job(), job);
    assert!(lease.take_journal().is_none());
    let store = lease.store();
    let saved = journal("th-tls", store.digest_key());
    store.save(&saved).unwrap();
    queue.finish(&lease, Outcome::Done).await.unwrap();
    let status = queue.status("crm-1").await.unwrap().unwrap();
    assert_eq!(
        (status.state, status.journal),
        (JobState::Done, Some(saved))
    );
    let (tls, plain) = backends(&cluster, "tls").await;
    assert!(tls >= 1 && plain == 0, "{tls} with TLS, {plain} without");

    // The default sslmode (prefer) with the CA given: verified TLS too.
    let other =
        PgQueue::connect_with(&url, StoreKey::generate().unwrap(), trusting(ca.clone())).await;
    assert!(
        matches!(other, Err(Error::WrongKey(_))),
        "another key, over TLS"
    );
    let again = PgQueue::connect_with(&url, queue.key().clone(), trusting(ca))
        .await
        .unwrap();
    assert_eq!(again.counts().await.unwrap().done, 1);
    let (tls, plain) = backends(&cluster, "tls").await;
    assert!(tls >= 2 && plain == 0, "{tls} with TLS, {plain} without");
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_is_refused_saying_how_to_trust_it() {
    let (_, tls) = certificates(&["localhost", "127.0.0.1"]);
    let cluster = Cluster::start_tls(&tls);
    let url = cluster.database("untrusted").await;
    let key = StoreKey::generate().unwrap();

    // The webpki roots do not hold the test's CA.
    let require = format!("{url}?sslmode=require");
    let refused = PgQueue::connect(&require, key.clone()).await.unwrap_err();
    assert!(matches!(refused, Error::Connect(_)), "{refused:?}");
    for shown in [refused.to_string(), format!("{refused:?}")] {
        assert!(shown.contains("certificate did not verify"), "{shown}");
        assert!(shown.contains("UnknownIssuer"), "{shown}");
        assert!(shown.contains("PgOptions::ca_file"), "{shown}");
        assert!(shown.contains("--store-ca FILE"), "{shown}");
        assert!(!shown.contains(cluster.password()), "{shown}");
    }

    // Another CA's file: refused, naming the file.
    let (stranger, _) = certificates(&["localhost"]);
    let stranger = ca_file(&cluster, "stranger.pem", &stranger);
    let refused = PgQueue::connect_with(&require, key.clone(), trusting(stranger.clone()))
        .await
        .unwrap_err();
    let shown = refused.to_string();
    assert!(shown.contains("certificate did not verify"), "{shown}");
    assert!(shown.contains(&stranger.display().to_string()), "{shown}");

    // The host connected to is not one the certificate names.
    let (ca, tls) = certificates(&["db.internal"]);
    let named = Cluster::start_tls(&tls);
    named.database("named").await;
    let ca = ca_file(&named, "ca.pem", &ca);
    let refused = PgQueue::connect_with(
        &format!("{}?sslmode=require", named.url("named")),
        key.clone(),
        trusting(ca.clone()),
    )
    .await
    .unwrap_err();
    let shown = refused.to_string();
    assert!(
        shown.contains("does not name the host connected to (127.0.0.1)"),
        "{shown}"
    );
    // ... and is, by its name (hostaddr says where it is).
    let by_name = format!(
        "host=db.internal hostaddr=127.0.0.1 port={} user={} password={} dbname=named \
         sslmode=require",
        named.port(),
        crate::support::USER,
        named.password()
    );
    let queue = PgQueue::connect_with(&by_name, key.clone(), trusting(ca))
        .await
        .unwrap();
    assert_eq!(queue.counts().await.unwrap().queued, 0);
    assert_eq!(backends(&named, "named").await.1, 0, "all TLS");

    // sslmode=prefer (the default) and no CA: TLS failed, so plain, as libpq does.
    let queue = PgQueue::connect(&url, key).await.unwrap();
    queue.enqueue("crm-1", b"input").await.unwrap();
    let (tls, plain) = backends(&cluster, "untrusted").await;
    assert!(tls == 0 && plain >= 1, "{tls} with TLS, {plain} without");
}

#[tokio::test]
async fn require_against_a_server_without_tls_is_refused_and_sockets_never_use_tls() {
    let cluster = Cluster::start();
    let url = cluster.database("plain").await;
    let key = StoreKey::generate().unwrap();
    let (ca, _) = certificates(&["localhost"]);
    let ca = ca_file(&cluster, "ca.pem", &ca);

    for (url, options) in [
        (format!("{url}?sslmode=require"), PgOptions::default()),
        // A CA given asks for TLS: no plain fallback.
        (url.clone(), trusting(ca.clone())),
    ] {
        let refused = PgQueue::connect_with(&url, key.clone(), options)
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::Connect(_)), "{refused:?}");
        let shown = refused.to_string();
        assert!(shown.contains("does not offer TLS"), "{shown}");
        assert!(shown.contains("ssl=on"), "{shown}");
        assert!(!shown.contains(cluster.password()), "{shown}");
    }

    // A unix socket: never TLS, whatever sslmode and the CA say.
    let socket = format!("{} sslmode=require", cluster.socket_url("plain"));
    let queue = PgQueue::connect_with(&socket, key.clone(), trusting(ca))
        .await
        .unwrap();
    queue.enqueue("crm-1", b"input").await.unwrap();
    // sslmode=disable over TCP: plain, as before.
    let queue = PgQueue::connect(&format!("{url}?sslmode=disable"), key)
        .await
        .unwrap();
    assert_eq!(queue.counts().await.unwrap().queued, 1);
    let (tls, plain) = backends(&cluster, "plain").await;
    assert!(tls == 0 && plain >= 2, "{tls} with TLS, {plain} without");
}

#[tokio::test]
async fn unusable_tls_settings_are_refused_before_connecting() {
    // Nothing listens on port 1: these fail before any connection.
    let url = "postgresql://u:S3cretPassw0rd@127.0.0.1:1/db";
    let key = StoreKey::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("trusthub-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.join("missing.pem");
    let cases = [
        (url.to_owned(), trusting(missing.clone()), "cannot be read"),
        (
            url.to_owned(),
            trusting(empty.clone()),
            "holds no certificate",
        ),
        (
            format!("{url}?sslmode=disable"),
            trusting(empty.clone()),
            "holds no certificate",
        ),
        (
            format!("{url}?sslmode=verify-full"),
            PgOptions::default(),
            "verify-full are spelled sslmode=require",
        ),
        (
            format!("{url}?sslmode=require&sslrootcert=/etc/ca.pem"),
            PgOptions::default(),
            "sslrootcert is not read from the URL",
        ),
        (
            "hostaddr=127.0.0.1 port=1 user=u password=S3cretPassw0rd sslmode=require".to_owned(),
            PgOptions::default(),
            "add host=NAME",
        ),
    ];
    for (url, options, says) in cases {
        let refused = PgQueue::connect_with(&url, key.clone(), options)
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::Config(_)), "{refused:?}");
        for shown in [refused.to_string(), format!("{refused:?}")] {
            assert!(shown.contains(says), "{says}: {shown}");
            assert!(!shown.contains("S3cretPassw0rd"), "{shown}");
        }
    }
    // A CA file with sslmode=disable: contradictory.
    let (ca, _) = certificates(&["localhost"]);
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca).unwrap();
    let refused = PgQueue::connect_with(&format!("{url}?sslmode=disable"), key, trusting(ca_path))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Config(_)), "{refused:?}");
    assert!(refused.to_string().contains("sslmode=disable"), "{refused}");
    let _ = std::fs::remove_dir_all(&dir);
}
