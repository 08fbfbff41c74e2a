//! The demo binary itself: it serves until SIGTERM (what a process manager sends), then ends its
//! streams with a final `retry:` and exits with success.

#![cfg(unix)]

use std::{process::Stdio, time::Duration};

use sse_conformance::STREAM_PATH;
use sse_hub::testing::Events;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    time::timeout,
};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_streams_and_stops_the_demo() {
    let mut demo = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("DEMO_ADDR")
        .env_remove("DEMO_USERS")
        .env_remove("DEMO_REDIS")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
    let addr = timeout(WAIT, async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the demo's banner");
            if let Some(rest) = line.strip_prefix("demo: serving http://") {
                break rest.split('/').next().unwrap().to_owned();
            }
        }
    })
    .await
    .unwrap();

    let url = format!("http://{addr}{STREAM_PATH}?token=admin-token");
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let mut events = Events::new(response.bytes_stream()).wait(WAIT);
    assert_eq!(events.next().await.unwrap().event, "connected");

    let pid = demo.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let retry = loop {
        match events.next().await {
            // The dashboard's ticks may come first.
            Some(event) if event.event == "data" => {}
            Some(event) => panic!("expected the end of the stream, got {event}"),
            None => break events.retry(),
        }
    };
    // The final `retry:` of a shutdown: the reconnect delay plus a random spread.
    let retry = retry.expect("the stream ended with a final retry");
    assert!(retry >= Duration::from_secs(1), "{retry:?}");
    let status = timeout(WAIT, demo.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    assert_eq!(rest.last().map(String::as_str), Some("demo: shutting down"));
    assert_eq!(
        rest.iter().filter(|line| line.contains("shutting")).count(),
        1
    );
}
