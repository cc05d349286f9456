//! Pagination over both Twilio list envelopes.
//!
//! - Trust Hub (`/v1/...`): `{"results": [...], "meta": {"next_page_url": "https://...", ...}}`
//!   (the item key is named by `meta.key`; generated pages name it directly);
//! - 2010 API: a flat envelope `{"addresses": [...], "next_page_uri": "/2010-04-01/...", ...}`.
//!
//! Either way the next page is a `GET` of the link's path and query, sent to the configured host
//! of the operation (see [`Transport::execute_next_page`]).

use futures_util::stream;

use crate::error::Error;
use crate::operation::{Operation, Request};
use crate::response::decode_json;
use crate::transport::Transport;

/// One page of a list answer, implemented by generated envelope types.
///
/// ```
/// use trusthub_runtime::{ListMeta, Page};
///
/// #[derive(serde::Deserialize)]
/// struct PolicyPage {
///     results: Vec<serde_json::Value>,
///     #[serde(default)]
///     meta: ListMeta,
/// }
///
/// impl Page for PolicyPage {
///     type Item = serde_json::Value;
///     fn next_page(&self) -> Option<&str> {
///         self.meta.next_page_url.as_deref()
///     }
///     fn into_items(self) -> Vec<Self::Item> {
///         self.results
///     }
/// }
/// ```
pub trait Page: serde::de::DeserializeOwned + Send + 'static {
    /// The listed resource.
    type Item: Send + 'static;
    /// `meta.next_page_url` (Trust Hub) or `next_page_uri` (2010); `None` or `""` on the last page.
    fn next_page(&self) -> Option<&str>;
    /// The page's items, in order.
    fn into_items(self) -> Vec<Self::Item>;
}

/// The `meta` object of Trust Hub list answers. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ListMeta {
    /// Index of this page (0-based).
    pub page: Option<i64>,
    /// Items per page.
    pub page_size: Option<i64>,
    /// Link to the first page.
    pub first_page_url: Option<String>,
    /// Link to the previous page; `null` on the first page.
    pub previous_page_url: Option<String>,
    /// Link to this page.
    pub url: Option<String>,
    /// Link to the next page; `null` on the last page.
    pub next_page_url: Option<String>,
    /// Name of the item array in the envelope, e.g. `results`.
    pub key: Option<String>,
}

/// Every item of a list across pages (or one final error): what a generated list's
/// `into_stream()` gives. Read it with [`try_next`](Self::try_next) or
/// [`collect_all`](Self::collect_all), no futures trait needed; it is also a
/// `futures::Stream` for stream combinators.
///
/// ```no_run
/// # async fn demo(policies: trusthub_runtime::ItemStream<serde_json::Value>) -> Result<(), trusthub_runtime::Error> {
/// let mut policies = policies;
/// while let Some(policy) = policies.try_next().await? {
///     println!("{}", policy["sid"]);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing until it is read"]
pub struct ItemStream<T> {
    inner: std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<T, Error>> + Send>>,
}

impl<T> ItemStream<T> {
    /// The next item; `Ok(None)` after the last one. After an error the stream ends.
    pub async fn try_next(&mut self) -> Result<Option<T>, Error> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx))
            .await
            .transpose()
    }

    /// Every remaining item, in order; the first error instead if one comes.
    pub async fn collect_all(mut self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        while let Some(item) = self.try_next().await? {
            all.push(item);
        }
        Ok(all)
    }
}

impl<T> std::fmt::Debug for ItemStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemStream").finish_non_exhaustive()
    }
}

impl<T> futures_core::Stream for ItemStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct State<P: Page> {
    transport: Transport,
    operation: &'static Operation,
    first: Option<Request>,
    next: Option<String>,
    /// Every next-page link followed so far: a link seen twice means the pages loop.
    visited: std::collections::HashSet<String>,
    items: std::vec::IntoIter<P::Item>,
    remaining: Option<usize>,
    /// An error to yield once the current page's items are used up.
    pending_error: Option<Error>,
    done: bool,
}

/// A stream whose first and only item is `error`: what a list gives when its parameters are
/// refused before any request.
#[doc(hidden)]
pub fn error_stream<T: Send + 'static>(error: Error) -> ItemStream<T> {
    ItemStream {
        inner: Box::pin(stream::once(async move { Err(error) })),
    }
}

/// Streams the items of a list across pages, starting with `first`.
///
/// Lazy: the first page is fetched on the first poll, the next one only when the items of the
/// previous one are used up. Stops after `limit` items overall (without fetching a page it does
/// not need), or after a page without a next link. An error (of a request or of decoding) is
/// yielded once and ends the stream. A next link already followed (pages that loop, A to A or
/// A to B to A, which would never end) ends the stream with an [`ErrorKind::InvalidNextPage`](crate::ErrorKind::InvalidNextPage) error after
/// that page's items.
///
/// ```no_run
/// # async fn demo(transport: trusthub_runtime::Transport, first: trusthub_runtime::Request) -> Result<(), trusthub_runtime::Error> {
/// # #[derive(serde::Deserialize)] struct PolicyPage { results: Vec<serde_json::Value>, #[serde(default)] meta: trusthub_runtime::ListMeta }
/// # impl trusthub_runtime::Page for PolicyPage { type Item = serde_json::Value;
/// #   fn next_page(&self) -> Option<&str> { self.meta.next_page_url.as_deref() }
/// #   fn into_items(self) -> Vec<serde_json::Value> { self.results } }
/// let mut policies = trusthub_runtime::paginate::<PolicyPage>(transport, first, Some(100));
/// while let Some(policy) = policies.try_next().await? {
///     println!("{}", policy["sid"]);
/// }
/// # Ok(()) }
/// ```
#[doc(hidden)]
pub fn paginate<P: Page>(
    transport: Transport,
    first: Request,
    limit: Option<usize>,
) -> ItemStream<P::Item> {
    let state = State::<P> {
        transport,
        operation: first.operation,
        first: Some(first),
        next: None,
        visited: std::collections::HashSet::new(),
        items: Vec::new().into_iter(),
        remaining: limit,
        pending_error: None,
        done: false,
    };
    let inner = Box::pin(stream::unfold(state, |mut state| async move {
        loop {
            if state.done || state.remaining == Some(0) {
                return None;
            }
            if let Some(item) = state.items.next() {
                if let Some(remaining) = state.remaining.as_mut() {
                    *remaining -= 1;
                }
                return Some((Ok(item), state));
            }
            if let Some(error) = state.pending_error.take() {
                state.done = true;
                return Some((Err(error), state));
            }
            let response = if let Some(first) = state.first.take() {
                state.transport.execute(first).await
            } else if let Some(next) = state.next.take() {
                let response = state
                    .transport
                    .execute_next_page(state.operation, &next)
                    .await;
                state.visited.insert(next);
                response
            } else {
                return None;
            };
            let page = response.and_then(|r| decode_json::<P>(state.operation, &r));
            match page {
                Err(error) => {
                    state.done = true;
                    return Some((Err(error), state));
                }
                Ok(page) => {
                    let next = page
                        .next_page()
                        .map(str::trim)
                        .filter(|link| !link.is_empty())
                        .map(str::to_owned);
                    if next.as_ref().is_some_and(|n| state.visited.contains(n)) {
                        state.pending_error = Some(Error::invalid_next_page(
                            state.operation.id,
                            format!(
                                "the next-page link leads back to a page already read (after \
                                 {} pages): the pages loop",
                                state.visited.len() + 1
                            ),
                        ));
                        state.next = None;
                    } else {
                        state.next = next;
                    }
                    state.items = page.into_items().into_iter();
                }
            }
        }
    }));
    ItemStream { inner }
}
