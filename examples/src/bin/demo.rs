//! The demo: `cargo run --release -p examples --bin demo [-- --addr 127.0.0.1:3000] [--users FILE]`.
//!
//! Options may also come from the environment: `DEMO_ADDR`, `DEMO_USERS`.

use std::{path::PathBuf, process::ExitCode};

use examples::demo::{self, users::Users};
use sse_core::Hub;

const USAGE: &str = "usage: demo [--addr HOST:PORT] [--users FILE]

  --addr HOST:PORT  where to listen (default 127.0.0.1:3000; env DEMO_ADDR)
  --users FILE      JSON list of {\"token\", \"userId\", \"roles\", \"permissions\"}
                    (default: the built-in demo users; env DEMO_USERS)";

struct Options {
    addr: String,
    users: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        addr: std::env::var("DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned()),
        users: std::env::var_os("DEMO_USERS").map(PathBuf::from),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--addr" => options.addr = value()?,
            "--users" => options.users = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("demo: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let users = match &options.users {
        Some(path) => match Users::from_file(path) {
            Ok(users) => users,
            Err(message) => {
                eprintln!("demo: {message}");
                return ExitCode::from(2);
            }
        },
        None => Users::builtin(),
    };
    let metrics = match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(handle) => Some(handle),
        Err(err) => {
            eprintln!("demo: metrics disabled: {err}");
            None
        }
    };
    let listener = match tokio::net::TcpListener::bind(&options.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("demo: cannot listen on {}: {err}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = Hub::new();
    let mut state = demo::state(hub, users.clone());
    state.metrics = metrics;
    let url = listener
        .local_addr()
        .map_or_else(|_| options.addr.clone(), |a| a.to_string());
    println!("demo: serving http://{url}/ (Ctrl-C to stop)");
    for user in users.all() {
        println!(
            "demo: user {} ({}) token {}",
            user.user_id,
            user.display_name(),
            user.token
        );
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        println!("demo: shutting down");
    };
    match demo::serve(listener, state, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("demo: {err}");
            ExitCode::FAILURE
        }
    }
}
