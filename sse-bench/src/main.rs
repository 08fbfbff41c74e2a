//! The `sse-bench` command: see the library docs, or run it with `--help`.

use std::{process::ExitCode, time::Duration};

use cap::Cap;
use sse_bench::{
    Command, Machine, Nginx, Options, Scenario, ServerKind, USAGE, evaluate, json_line, markdown,
    run_all, serve, write_benchmarks, write_chart,
};

/// Counts the heap in use, so that a server process can report its heap per connection; the
/// allocator underneath is jemalloc (the default feature), mimalloc, or the system's.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: Cap<tikv_jemallocator::Jemalloc> =
    Cap::new(tikv_jemallocator::Jemalloc, usize::MAX);

#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOCATOR: Cap<mimalloc::MiMalloc> = Cap::new(mimalloc::MiMalloc, usize::MAX);

#[cfg(not(any(feature = "jemalloc", feature = "mimalloc")))]
#[global_allocator]
static ALLOCATOR: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

fn heap_bytes() -> usize {
    ALLOCATOR.allocated()
}

fn main() -> ExitCode {
    let command = match Command::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("sse-bench: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Serve(kind, serve_options) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            match runtime.block_on(serve(kind, &serve_options, heap_bytes)) {
                Ok(()) => {
                    runtime.shutdown_timeout(Duration::from_millis(100));
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!(
                        "sse-bench {}: {err}",
                        kind.subcommand().unwrap_or(kind.name())
                    );
                    ExitCode::FAILURE
                }
            }
        }
        Command::All(options) => bench(&Scenario::ALL, options, "all"),
        Command::Scenario(scenario, options) => bench(&[scenario], options, scenario.name()),
    }
}

/// Runs scenarios on a single-threaded runtime (pinned to core 1 when asked), prints a JSON
/// line per run and the Markdown summary, and writes the files when `options.out` is set.
///
/// nchan runs when nginx and its module are installed, or can be (as root); otherwise one
/// `nchan: skipped: <reason>` line goes to standard error and into the summary.
fn bench(scenarios: &[Scenario], options: Options, name: &str) -> ExitCode {
    let mut servers = ServerKind::ALL.to_vec();
    let mut notes = Vec::new();
    if scenarios
        .iter()
        .any(|s| s.servers().contains(&ServerKind::Nchan))
        && let Err(reason) = Nginx::find_or_install(|line| eprintln!("{line}"))
    {
        let line = format!("nchan: skipped: {reason}");
        eprintln!("{line}");
        notes.push(line);
        servers.retain(|&s| s != ServerKind::Nchan);
    }
    let pinned = options.pin && sse_bench::pin_generator();
    let machine = Machine::collect(pinned);
    println!(
        "{}",
        serde_json::json!({
            "machine": machine,
            "sizes": options.sizes.connections,
            "repeat": options.sizes.repeat,
            "servers": servers.iter().map(|s| s.name()).collect::<Vec<_>>(),
        })
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let results = runtime.block_on(run_all(
        scenarios,
        &options.sizes,
        pinned,
        &servers,
        |result| println!("{}", json_line(result)),
    ));
    let end_load = Machine::collect(pinned).load_average;
    let command = options.command_line(name);
    let verdicts = evaluate(&results, &options.sizes);
    let generated = markdown(&machine, end_load, &command, &results, &verdicts, &notes);
    println!("\n{generated}");
    if let Some(out) = options.out {
        let written = write_benchmarks(&out.join("BENCHMARKS.md"), &generated)
            .and_then(|()| write_chart(&out.join("benchmarks.svg"), &results));
        if let Err(err) = written {
            eprintln!("sse-bench: writing the results: {err}");
            return ExitCode::FAILURE;
        }
        eprintln!("sse-bench: wrote BENCHMARKS.md and benchmarks.svg");
    }
    ExitCode::SUCCESS
}
