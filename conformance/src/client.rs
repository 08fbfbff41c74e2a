//! The SSE client side of the scenarios: `reqwest-eventsource`, a third-party client, read
//! through the core test kit's [`Events`].

use futures_util::{Stream, StreamExt, stream};
use reqwest_eventsource::{Error, Event, EventSource, retry::Never};
use sse_hub::testing::{self, Events};

use crate::WAIT;

/// Who a request claims to be (the host application's test auth headers).
#[derive(Debug, Clone, Default)]
pub struct As {
    /// `x-user`.
    pub user: Option<&'static str>,
    /// `x-roles`, comma-separated.
    pub roles: &'static str,
    /// `x-permissions`, comma-separated.
    pub permissions: &'static str,
}

impl As {
    /// An anonymous client.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A user without roles.
    pub fn user(id: &'static str) -> Self {
        Self {
            user: Some(id),
            ..Self::default()
        }
    }

    /// A user with roles.
    pub fn user_with_roles(id: &'static str, roles: &'static str) -> Self {
        Self {
            user: Some(id),
            roles,
            ..Self::default()
        }
    }

    /// The request with these headers.
    pub fn request(&self, url: &str) -> reqwest::RequestBuilder {
        let mut request = reqwest::Client::new().get(url);
        if let Some(user) = self.user {
            request = request.header("x-user", user);
        }
        if !self.roles.is_empty() {
            request = request.header("x-roles", self.roles);
        }
        if !self.permissions.is_empty() {
            request = request.header("x-permissions", self.permissions);
        }
        request
    }

    /// Sends a `GET` of `url` with these headers: the response, before its body.
    ///
    /// # Panics
    ///
    /// When the request fails (no response).
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.request(url).send().await.expect("a response")
    }
}

/// Opens a stream with `request` and waits until it is open; its messages, as the kit's
/// [`Events`] (each wait bounded by [`WAIT`]).
///
/// `reqwest-eventsource` decodes the stream, as a browser's `EventSource` does: it dispatches
/// no event for a retry-only frame, so [`Events::expect_end`] sees no final `retry:` through
/// it. It never reconnects. Dropping the `Events` closes the connection.
///
/// # Panics
///
/// When the server refuses the stream or it does not open within [`WAIT`].
pub async fn open(request: reqwest::RequestBuilder) -> Events {
    let mut source = EventSource::new(request).expect("a cloneable request");
    source.set_retry_policy(Box::new(Never));
    match tokio::time::timeout(WAIT, source.next()).await {
        Ok(Some(Ok(Event::Open))) => Events::from_decoded(decoded(source)).wait(WAIT),
        other => panic!("the stream did not open: {other:?}"),
    }
}

/// The messages of `source` as the kit's events: the end of the stream ends them, and any
/// other error of the client is the last item.
fn decoded(source: EventSource) -> impl Stream<Item = Result<testing::Event, String>> + Send {
    stream::unfold(Some(source), |source| async move {
        let mut source = source?;
        loop {
            match source.next().await? {
                Ok(Event::Open) => {}
                Ok(Event::Message(message)) => {
                    let event = testing::Event {
                        id: message.id,
                        event: message.event,
                        data: message.data,
                        retry: message.retry,
                    };
                    return Some((Ok(event), Some(source)));
                }
                Err(Error::StreamEnded) => return None,
                Err(err) => return Some((Err(err.to_string()), None)),
            }
        }
    })
}
