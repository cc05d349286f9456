//! Ctrl-C as a stream of events, with the handler installed before the work starts.

use tokio::sync::mpsc;

/// Installs the Ctrl-C handler (from then on Ctrl-C no longer kills the process) and returns
/// a receiver getting one message per Ctrl-C.
pub async fn watch() -> mpsc::UnboundedReceiver<()> {
    let (tx, rx) = mpsc::unbounded_channel();
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
            if tx.send(()).is_err() {
                return;
            }
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        }
    });
    let _ = ready_rx.await;
    rx
}
