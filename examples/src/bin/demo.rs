//! The demo: `cargo run --release -p examples --bin demo [-- --addr 127.0.0.1:3000] [--users FILE]
//! [--redis URL]`.
//!
//! Options may also come from the environment: `DEMO_ADDR`, `DEMO_USERS`, `DEMO_REDIS`.

use std::{path::PathBuf, process::ExitCode};

use examples::demo::{self, users::Users};

/// jemalloc leaves the untouched pages of a connection's buffers out of resident memory, which
/// glibc's malloc does not: an idle stream costs about half as much.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "usage: demo [--addr HOST:PORT] [--users FILE] [--redis URL]

  --addr HOST:PORT  where to listen (default 127.0.0.1:3000; env DEMO_ADDR)
  --users FILE      JSON list of {\"token\", \"userId\", \"roles\", \"permissions\"}
                    (default: the built-in demo users; env DEMO_USERS)
  --redis URL       share fan-out and replay with other instances through Redis
                    (default: the embedded in-memory hub; env DEMO_REDIS)";

struct Options {
    addr: String,
    users: Option<PathBuf>,
    redis: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        addr: std::env::var("DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned()),
        users: std::env::var_os("DEMO_USERS").map(PathBuf::from),
        redis: std::env::var("DEMO_REDIS")
            .ok()
            .filter(|url| !url.is_empty()),
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
            "--redis" => options.redis = Some(value()?),
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
        Ok(handle) => {
            sse_tower::metrics::describe();
            Some(handle)
        }
        Err(err) => {
            eprintln!("demo: metrics disabled: {err}");
            None
        }
    };
    let listener = match sse_tower::server::bind(&options.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("demo: cannot listen on {}: {err}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = match &options.redis {
        None => demo::hub_builder().build(),
        Some(url) => {
            match sse_redis::RedisBackplane::connect(url, sse_redis::RedisConfig::default()).await {
                Ok(backplane) => {
                    println!(
                        "demo: sharing messages through Redis at {}",
                        demo::redacted(url)
                    );
                    sse_redis::hub(backplane, demo::hub_builder()).await
                }
                Err(err) => {
                    eprintln!("demo: cannot use Redis at {}: {err}", demo::redacted(url));
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let mut state = demo::state(hub, users.clone());
    state.metrics = metrics;
    let url = listener
        .local_addr()
        .map_or_else(|_| options.addr.clone(), |a| a.to_string());
    println!("demo: serving http://{url}/ (Ctrl-C or SIGTERM to stop)");
    // The built-in tokens are public; a users file's are secrets and never printed.
    for user in users.all() {
        if users.is_builtin() {
            println!(
                "demo: user {} ({}) token {}",
                user.user_id,
                user.display_name(),
                user.token
            );
        } else {
            println!("demo: user {} ({})", user.user_id, user.display_name());
        }
    }
    let shutdown = async {
        examples::shutdown_signal().await;
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
