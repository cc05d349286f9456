//! The crate's one error.

use std::io;

/// What went wrong with the job store. Messages name jobs by id and customers by digest, never
/// by a customer's key or data, and never show the database URL (it may hold a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL or an option is unusable (the URL itself is not shown).
    #[error("{0}")]
    Config(String),
    /// The database could not be reached, or did not answer in time.
    #[error("cannot reach the job store's database: {0}")]
    Connect(String),
    /// The database refused a statement.
    #[error("the job store's database refused a statement: {0}")]
    Database(String),
    /// The database's schema is of a newer version than this crate knows, or one of its
    /// applied migrations differs from this crate's.
    #[error("{0}")]
    Schema(String),
    /// The database was created with another store key.
    #[error("{0}")]
    WrongKey(String),
    /// The caller's lease of a job is over: it expired, was taken over by another worker, or the
    /// job was finished, parked or released with it. The worker must stop that job's flow.
    #[error("{0}")]
    LeaseLost(String),
    /// A customer enqueued again with another input while its job cannot take it.
    #[error("{0}")]
    InputChanged(String),
    /// A stored job does not read (its input does not decrypt, its journal does not parse):
    /// the job was marked failed with the reason.
    #[error("{0}")]
    Damaged(String),
    /// An argument is unusable (a worker id, a duration).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn db(e: tokio_postgres::Error) -> Error {
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<io::Error>());
        if e.is_closed() || io {
            // Sockets and the protocol: the connection is gone or never was.
            Error::Connect(describe(&e))
        } else {
            Error::Database(describe(&e))
        }
    }

    /// A failed connection attempt.
    pub(crate) fn connect(e: tokio_postgres::Error) -> Error {
        Error::Connect(describe(&e))
    }

    /// Whether this is [`Error::LeaseLost`].
    pub fn is_lease_lost(&self) -> bool {
        matches!(self, Error::LeaseLost(_))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Connect(_) => io::ErrorKind::ConnectionAborted,
            Error::LeaseLost(_) => io::ErrorKind::PermissionDenied,
            Error::Damaged(_) | Error::Schema(_) | Error::WrongKey(_) => io::ErrorKind::InvalidData,
            Error::Invalid(_) | Error::Config(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// Whether an I/O error (from [`JournalStore::save`](trusthub::flow::JournalStore::save) of a
/// [`PgJournalStore`](crate::PgJournalStore)) says that the worker's lease is over: the flow
/// must stop, another worker resumes it.
pub fn is_lease_lost(error: &io::Error) -> bool {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<Error>())
        .is_some_and(Error::is_lease_lost)
}

/// A `tokio-postgres` error with its cause: the server's message and SQLSTATE, or the I/O error.
/// (Neither holds the connection's password; the server's messages name the user, the
/// database and, for constraint failures, key values, which here are digests.)
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
