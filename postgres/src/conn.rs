//! The connection thread: one std thread owning a current-thread Tokio runtime and a small pool of
//! `tokio-postgres` connections. Requests arrive over a channel and run concurrently on that
//! thread, each on a connection of its own; their answers go back over a oneshot (awaited by
//! async callers) or a std channel (a blocking receive by the synchronous
//! [`JournalStore`](trusthub::flow::JournalStore) methods).
//!
//! Why a thread of its own: the journal store's trait is synchronous and is called from the
//! flow's async tasks, on whatever runtime the caller has (a current-thread one included). A
//! blocking receive from a connection driven by that same runtime would deadlock it; one driven
//! by this thread's runtime cannot.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{AsyncMessage, Client, Config};

use crate::tls::Tls;
use crate::Error;

type Task = Box<dyn FnOnce(Arc<Pool>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The handle of the connection thread; the thread ends when the last handle is dropped.
pub(crate) struct Db {
    tx: Option<mpsc::UnboundedSender<Task>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    timeout: Duration,
}

/// The connections, opened on demand, at most `permits` at once.
pub(crate) struct Pool {
    config: Config,
    tls: Tls,
    idle: Mutex<Vec<Client>>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

/// A connection lent to one request; back to the pool when dropped (unless closed).
pub(crate) struct Conn {
    client: Option<Client>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("a lent connection")
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("a lent connection")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && !client.is_closed()
        {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
        }
    }
}

impl Pool {
    async fn take(self: &Arc<Self>) -> Result<Conn, Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Connect("the connection pool is closed".into()))?;
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match idle {
                Some(client) if client.is_closed() => continue,
                Some(client) => {
                    return Ok(Conn {
                        client: Some(client),
                        pool: self.clone(),
                        _permit: permit,
                    });
                }
                None => break,
            }
        }
        let (client, connection) =
            tokio::time::timeout(self.timeout, self.tls.connect(&self.config))
                .await
                .map_err(|_| {
                    Error::Connect(format!(
                        "no connection within {} s",
                        self.timeout.as_secs_f32()
                    ))
                })??;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "trusthub-postgres connection closed");
            }
        });
        Ok(Conn {
            client: Some(client),
            pool: self.clone(),
            _permit: permit,
        })
    }
}

impl Db {
    /// Starts the connection thread (no connection is opened yet); its connections speak TLS as
    /// `tls` says.
    pub(crate) fn start(
        config: Config,
        tls: Tls,
        connections: usize,
        timeout: Duration,
    ) -> Result<Db, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Connect(format!("cannot start the connection thread: {e}")))?;
        let pool = Arc::new(Pool {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(connections.max(1))),
            timeout,
        });
        let (tx, mut rx) = mpsc::unbounded_channel::<Task>();
        let thread = std::thread::Builder::new()
            .name("trusthub-postgres".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(task) = rx.recv().await {
                        tokio::spawn(task(pool.clone()));
                    }
                });
                // Dropping the runtime here cancels what is left and closes the connections.
            })
            .map_err(|e| Error::Connect(format!("cannot start the connection thread: {e}")))?;
        Ok(Db {
            tx: Some(tx),
            thread: Mutex::new(Some(thread)),
            timeout,
        })
    }

    fn submit<T, F, Fut>(&self, f: F, reply: impl FnOnce(Result<T, Error>) + Send + 'static)
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let timeout = self.timeout;
        let task: Task = Box::new(move |pool: Arc<Pool>| {
            Box::pin(async move {
                let work = async {
                    let conn = pool.take().await?;
                    f(conn).await
                };
                let result = match tokio::time::timeout(timeout, work).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::Connect(format!(
                        "the database did not answer within {} s",
                        timeout.as_secs_f32()
                    ))),
                };
                reply(result);
            })
        });
        if let Some(tx) = &self.tx {
            // When the thread is gone the task is dropped with its reply: the caller sees it.
            let _ = tx.send(task);
        }
    }

    /// Runs `f` on a connection of the thread; for async callers.
    pub(crate) async fn call<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(f, move |result| {
            let _ = tx.send(result);
        });
        rx.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Runs `f` on a connection of the thread and blocks until it answers; for synchronous
    /// callers (on a multi-threaded runtime, the wait moves the runtime's other tasks off this
    /// thread first).
    pub(crate) fn call_blocking<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.submit(f, move |result| {
            let _ = tx.send(result);
        });
        blocking(|| rx.recv().unwrap_or_else(|_| Err(gone())))
    }
}

/// A `LISTEN` on a connection of its own: every notification of the channel wakes one waiter of
/// `notify` (or the next one, when none waits). Reconnects a second after losing its connection,
/// and wakes the waiter then (what was notified meanwhile is lost). Ends when `stop`'s sender
/// is dropped.
pub(crate) struct Listen {
    pub(crate) channel: &'static str,
    pub(crate) notify: Arc<Notify>,
    pub(crate) stop: oneshot::Receiver<()>,
}

impl Db {
    /// Starts `listen` on the connection thread; answers once the first `LISTEN` is in place
    /// (or failed: then the listener is gone).
    pub(crate) async fn listen(&self, listen: Listen) -> Result<(), Error> {
        let (ready_tx, ready_rx) = oneshot::channel::<Result<(), Error>>();
        let timeout = self.timeout;
        let task: Task = Box::new(move |pool: Arc<Pool>| {
            Box::pin(async move {
                let Listen {
                    channel,
                    notify,
                    mut stop,
                } = listen;
                let mut ready = Some(ready_tx);
                let run = async {
                    loop {
                        let connected =
                            tokio::time::timeout(timeout, pool.tls.connect(&pool.config))
                                .await
                                .map_err(|_| {
                                    Error::Connect(format!(
                                        "no connection within {} s",
                                        timeout.as_secs_f32()
                                    ))
                                })
                                .and_then(|c| c);
                        match connected {
                            Ok((client, mut connection)) => {
                                // The connection delivers notifications only while polled for
                                // them; this loop also drives the LISTEN below.
                                let drive = async {
                                    loop {
                                        match std::future::poll_fn(|cx| connection.poll_message(cx))
                                            .await
                                        {
                                            Some(Ok(AsyncMessage::Notification(_))) => {
                                                notify.notify_one()
                                            }
                                            Some(Ok(_)) => {}
                                            Some(Err(e)) => break Error::db(e),
                                            None => {
                                                break Error::Connect(
                                                    "the listening connection closed".into(),
                                                )
                                            }
                                        }
                                    }
                                };
                                let sql = format!("LISTEN {channel}");
                                let listened = async {
                                    client.batch_execute(&sql).await.map_err(Error::db)?;
                                    if let Some(tx) = ready.take() {
                                        let _ = tx.send(Ok(()));
                                    } else {
                                        // Back after a loss: what changed meanwhile is unknown.
                                        notify.notify_one();
                                    }
                                    std::future::pending::<Result<(), Error>>().await
                                };
                                let lost = tokio::select! {
                                    e = drive => e,
                                    Err(e) = listened => e,
                                };
                                tracing::warn!(error = %lost, "trusthub-postgres lost its LISTEN connection; reconnecting");
                            }
                            Err(e) => {
                                if let Some(tx) = ready.take() {
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            }
                        }
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(Err(Error::Connect(
                                "the listening connection closed".into(),
                            )));
                            return;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                };
                tokio::select! {
                    () = run => {}
                    _ = &mut stop => {}
                }
            })
        });
        match &self.tx {
            Some(tx) if tx.send(task).is_ok() => {}
            _ => return Err(gone()),
        }
        ready_rx.await.unwrap_or_else(|_| Err(gone()))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        drop(self.tx.take());
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

fn gone() -> Error {
    Error::Connect("the connection thread has stopped".into())
}

/// Runs blocking work without stalling the other tasks of a multi-threaded Tokio runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
