//! The signals that stop a command cleanly, as a stream of events: Ctrl-C (SIGINT), SIGTERM
//! (`docker stop`, `kill`, a CI timeout) and SIGHUP (a closed terminal), with the handlers
//! installed before the work starts.

use tokio::sync::mpsc;

/// Installs the handlers (from then on these signals no longer kill the process) and returns a
/// receiver getting the signal's name once per signal received.
pub async fn watch() -> mpsc::UnboundedReceiver<&'static str> {
    let (tx, rx) = mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        for (kind, name) in [
            (SignalKind::interrupt(), "Ctrl-C"),
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
        ] {
            // Registered here, before returning: a signal that comes next is never missed.
            let Ok(mut stream) = signal(kind) else {
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if tx.send(name).is_err() {
                        return;
                    }
                }
            });
        }
    }
    #[cfg(not(unix))]
    {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut first = Box::pin(tokio::signal::ctrl_c());
            // The handler is registered by the first poll.
            let early = futures_util::future::poll_immediate(&mut first).await;
            let _ = ready_tx.send(());
            let received = match early {
                Some(result) => result,
                None => first.await,
            };
            if received.is_err() {
                return;
            }
            loop {
                if tx.send("Ctrl-C").is_err() {
                    return;
                }
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
            }
        });
        let _ = ready_rx.await;
    }
    rx
}
