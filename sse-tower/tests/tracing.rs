//! What a stream leaves in the logs: a span `sse.stream` per stream, its open and close events
//! inside it at the right levels with `sse.*` fields, a span per send, refusals; user ids only
//! where the endpoint opts in.

mod support;

use std::{
    collections::BTreeMap,
    fmt::Debug,
    sync::{Arc, Mutex},
};

use serde_json::json;
use sse_hub::{
    Channel, ConnectOptions, EventType, Hub, Identity, Message, UserId, testing::Events,
};
use sse_tower::{SseService, StreamConfig};
use tracing::{
    Event, Level, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};
use tracing_subscriber::{Layer, layer::Context, prelude::*, registry::LookupSpan};

use support::{assert_opened, call, get, user};

/// One event as captured: level, message, fields, and its span's name and fields.
#[derive(Debug, Clone, PartialEq)]
struct Captured {
    level: Level,
    message: String,
    fields: BTreeMap<String, String>,
    span: Option<(String, BTreeMap<String, String>)>,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        values.record(extensions.get_mut::<Fields>().unwrap());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        let span = ctx.event_span(event).map(|span| {
            let extensions = span.extensions();
            (
                span.name().to_owned(),
                extensions
                    .get::<Fields>()
                    .map(|f| f.0.clone())
                    .unwrap_or_default(),
            )
        });
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            message,
            fields: fields.0,
            span,
        });
    }
}

impl Capture {
    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn streams_and_sends_leave_spans_and_events_with_sse_fields() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(
            capture.clone().with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("sse_tower", Level::DEBUG)
                    .with_target("sse_hub", Level::DEBUG),
            ),
        ),
    );
    let hub = Hub::new();
    let service = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT]).endpoint("chat-stream"),
    );

    // Open, send, kick.
    let mut stream = Events::from_body(assert_opened(
        call(&service, get("/").extension(user(1))).await,
    ));
    stream.expect_event("connected").await;
    let report = hub
        .send(Message::new(Channel::CHAT, EventType::Data, json!("hi")))
        .await
        .unwrap();
    stream.expect_message(&report, "data", &json!("hi")).await;
    let kicked = hub.kick_user(UserId::from(1)).await;
    assert_eq!(kicked.affected, 1);
    stream.expect_end().await;
    drop(stream);

    let stream_span = Some((
        "sse.stream".to_owned(),
        map(&[
            ("sse.connection_id", "conn-1"),
            ("sse.endpoint", "chat-stream"),
        ]),
    ));
    let events = capture.take();
    let opened = events
        .iter()
        .find(|e| e.message == "sse stream opened")
        .expect("an open event");
    assert_eq!((opened.level, &opened.span), (Level::DEBUG, &stream_span));
    assert_eq!(opened.fields["sse.resumed"], "false");
    let sent = events
        .iter()
        .find(|e| e.message == "sse message sent")
        .expect("a send event");
    assert_eq!(sent.level, Level::DEBUG);
    let (name, fields) = sent.span.clone().expect("inside the send's span");
    assert_eq!(name, "sse.send");
    assert_eq!(
        fields,
        map(&[
            ("sse.message_id", report.id.as_str()),
            ("sse.channel", "chat"),
            ("sse.cursor", &report.cursor.to_string()),
            ("sse.recipients", "1"),
            ("sse.shed", "0"),
        ])
    );
    let closed = events
        .iter()
        .find(|e| e.message == "sse stream closed")
        .expect("a close event");
    assert_eq!((closed.level, &closed.span), (Level::DEBUG, &stream_span));
    assert_eq!(closed.fields["sse.close_reason"], "kicked");
    assert!(closed.fields.contains_key("sse.duration_ms"));
    // No user id unless the endpoint opts in.
    assert!(events.iter().all(|e| !e.fields.contains_key("sse.user_id")));

    // A refusal.
    let refused = call(&service, get("/?channels=nowhere").extension(user(1))).await;
    assert_eq!(refused.status(), http::StatusCode::NOT_FOUND);
    let events = capture.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].level, Level::INFO);
    assert_eq!(
        (
            &events[0].fields["sse.endpoint"],
            &events[0].fields["sse.status"],
            &events[0].fields["sse.code"]
        ),
        (
            &"chat-stream".to_owned(),
            &"404".to_owned(),
            &"not_found".to_owned()
        )
    );

    // A client too slow to keep up: INFO, from the hub and for the stream, with the user id on
    // an endpoint that opts in.
    let opted_in = SseService::new(
        hub.clone(),
        StreamConfig::new([Channel::CHAT])
            .queue_capacity(1)
            .log_user_ids(true),
    );
    let body = assert_opened(call(&opted_in, get("/").extension(user(7))).await);
    let _other = hub
        .connect(ConnectOptions::new(Identity::anonymous()).channels([Channel::SYSTEM]))
        .await
        .unwrap();
    for n in 0..2 {
        hub.send(Message::new(Channel::CHAT, EventType::Data, json!(n)))
            .await
            .unwrap();
    }
    drop(body);
    let events = capture.take();
    let slow: Vec<_> = events
        .iter()
        .filter(|e| e.fields.get("sse.close_reason").map(String::as_str) == Some("too-slow"))
        .collect();
    assert_eq!(slow.len(), 2, "{events:?}");
    assert!(slow.iter().all(|e| e.level == Level::INFO));
    let (name, fields) = slow[1]
        .span
        .clone()
        .expect("the stream's close is in its span");
    assert_eq!(name, "sse.stream");
    assert_eq!(fields["sse.user_id"], "7");
}
