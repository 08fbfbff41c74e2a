//! The SSE client side of the scenarios: `reqwest-eventsource`, a third-party client.

use futures_util::StreamExt;
use reqwest_eventsource::{Event, EventSource, retry::Never};
use serde_json::Value;

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
}

/// One decoded SSE message.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The SSE id (empty when the event has none).
    pub id: String,
    /// The event name.
    pub event: String,
    /// The JSON of the data.
    pub data: Value,
}

/// An open stream.
pub struct Stream {
    source: EventSource,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("ready_state", &self.source.ready_state())
            .finish()
    }
}

impl Stream {
    /// Opens a stream and waits until it is open; panics on a refusal.
    pub async fn open(request: reqwest::RequestBuilder) -> Self {
        let mut source = EventSource::new(request).expect("a cloneable request");
        source.set_retry_policy(Box::new(Never));
        match tokio::time::timeout(WAIT, source.next()).await {
            Ok(Some(Ok(Event::Open))) => Self { source },
            other => panic!("the stream did not open: {other:?}"),
        }
    }

    /// The next message, within [`WAIT`].
    pub async fn next(&mut self) -> Received {
        match tokio::time::timeout(WAIT, self.source.next()).await {
            Ok(Some(Ok(Event::Message(message)))) => Received {
                id: message.id,
                event: message.event,
                data: serde_json::from_str(&message.data).expect("JSON data"),
            },
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The next message that is not a heartbeat.
    pub async fn next_non_heartbeat(&mut self) -> Received {
        loop {
            let received = self.next().await;
            if received.event != "heartbeat" {
                return received;
            }
        }
    }

    /// Waits for the end of the stream (the server closed it), within [`WAIT`]; returns the
    /// messages received before the end.
    pub async fn until_closed(&mut self) -> Vec<Received> {
        let mut before = Vec::new();
        loop {
            match tokio::time::timeout(WAIT, self.source.next()).await {
                Ok(Some(Ok(Event::Message(message)))) => before.push(Received {
                    id: message.id,
                    event: message.event,
                    data: serde_json::from_str(&message.data).expect("JSON data"),
                }),
                Ok(Some(Err(reqwest_eventsource::Error::StreamEnded)) | None) => return before,
                other => panic!("expected the stream to end, got {other:?}"),
            }
        }
    }

    /// Closes the client side.
    pub fn close(mut self) {
        self.source.close();
    }
}
