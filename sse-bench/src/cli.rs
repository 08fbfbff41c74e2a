//! The command line.

use std::path::PathBuf;

use crate::{Scenario, ServeOptions, ServerKind, Sizes};

/// What `sse-bench --help` prints.
pub const USAGE: &str = "\
sse-bench: this project's SSE server against plain axum SSE and nginx+nchan, same run,
same machine

USAGE:
    sse-bench all [OPTIONS]                 every scenario; writes BENCHMARKS.md and benchmarks.svg
    sse-bench scenario <NAME> [OPTIONS]     one scenario; prints only
    sse-bench serve-ours [--redis URL] [--redis-key KEY]
                                            serve ours, on a Redis backplane with --redis
    sse-bench serve-reference               serve the reference (used by the runs)

SCENARIOS:
    idle, broadcast, overload, targeted, slow-readers, redis
    (redis: Redis at $REDIS_URL, default redis://127.0.0.1:6379)

SERVERS:
    ours, reference     this binary (serve-ours, serve-reference)
    nchan               nginx with the nchan module, in idle, broadcast and overload; when
                        nginx or the module is missing it is installed with apt-get
                        (nginx-light libnginx-mod-nchan) if running as root, else skipped

OPTIONS:
    --quick                 1k and 5k streams instead of 1k and 10k
    --connections N[,N..]   these stream counts instead
    --repeat K              run everything K times (default 1); tables show min / median / max
    --out DIR               where `all` writes its files (default: the workspace root)
    --no-write              `all` prints only
    --no-pin                do not pin server and generator to cores 0 and 1

Every run prints one JSON line on stdout; a Markdown summary follows the last one.
";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print the usage.
    Help,
    /// Serve one server, talking to the benchmark over standard input and output.
    Serve(ServerKind, ServeOptions),
    /// Run every scenario.
    All(Options),
    /// Run one scenario.
    Scenario(Scenario, Options),
}

/// Options of `all` and `scenario`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The stream counts and time budget.
    pub sizes: Sizes,
    /// Where to write BENCHMARKS.md and benchmarks.svg; `None` to print only.
    pub out: Option<PathBuf>,
    /// Whether to pin the servers and the generator to separate cores.
    pub pin: bool,
}

impl Options {
    /// The command line that reproduces these options for `name` (`all` or a scenario's name),
    /// as printed into BENCHMARKS.md: it always carries `--repeat`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::{Command, Options};
    ///
    /// let args = ["all", "--quick", "--repeat", "3"].map(String::from);
    /// let Ok(Command::All(options)) = Command::parse(args) else { panic!() };
    /// assert_eq!(
    ///     options.command_line("all"),
    ///     "cargo run --release -p sse-bench -- all --quick --repeat 3"
    /// );
    /// ```
    pub fn command_line(&self, name: &str) -> String {
        let mut line = "cargo run --release -p sse-bench -- ".to_owned();
        if name == "all" {
            line.push_str("all");
        } else {
            line.push_str("scenario ");
            line.push_str(name);
        }
        let defaults = if self.sizes.quick {
            line.push_str(" --quick");
            Sizes::quick()
        } else {
            Sizes::full()
        };
        if self.sizes.connections != defaults.connections {
            let counts: Vec<String> = self
                .sizes
                .connections
                .iter()
                .map(usize::to_string)
                .collect();
            line.push_str(" --connections ");
            line.push_str(&counts.join(","));
        }
        line.push_str(&format!(" --repeat {}", self.sizes.repeat));
        if !self.pin {
            line.push_str(" --no-pin");
        }
        line
    }
}

impl Command {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    ///
    /// A message naming the argument that is not understood.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_bench::{Command, Scenario};
    ///
    /// let args = ["scenario", "targeted", "--quick"].map(String::from);
    /// let Ok(Command::Scenario(scenario, options)) = Command::parse(args) else { panic!() };
    /// assert_eq!(scenario, Scenario::Targeted);
    /// assert_eq!(options.sizes.connections, [1000, 5000]);
    /// assert_eq!(options.sizes.repeat, 1);
    /// assert!(options.out.is_none());
    /// ```
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = args.into_iter();
        let Some(command) = args.next() else {
            return Ok(Self::Help);
        };
        let scenario = match command.as_str() {
            "help" | "-h" | "--help" => return Ok(Self::Help),
            "serve-ours" => {
                let mut options = ServeOptions::default();
                while let Some(arg) = args.next() {
                    let value = |args: &mut dyn Iterator<Item = String>| {
                        args.next().ok_or_else(|| format!("`{arg}` needs a value"))
                    };
                    match arg.as_str() {
                        "--redis" => options.redis = Some(value(&mut args)?),
                        "--redis-key" => options.redis_key = Some(value(&mut args)?),
                        other => return Err(format!("unknown option `{other}`")),
                    }
                }
                return Ok(Self::Serve(ServerKind::Ours, options));
            }
            "serve-reference" => {
                return Ok(Self::Serve(ServerKind::Reference, ServeOptions::default()));
            }
            "all" => None,
            "scenario" => {
                let name = args.next().ok_or("`scenario` needs a scenario name")?;
                Some(Scenario::parse(&name).ok_or_else(|| format!("unknown scenario `{name}`"))?)
            }
            other => return Err(format!("unknown command `{other}`")),
        };
        let mut sizes = Sizes::full();
        let mut connections = None;
        let mut repeat = None;
        let mut out = Some(workspace_root());
        let mut pin = true;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => sizes = Sizes::quick(),
                "--connections" => {
                    let list = args.next().ok_or("`--connections` needs a value")?;
                    let counts = list
                        .split(',')
                        .map(|n| n.trim().parse::<usize>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| format!("`--connections {list}` is not a list of counts"))?;
                    if counts.is_empty() || counts.contains(&0) {
                        return Err("`--connections` needs counts above zero".to_owned());
                    }
                    connections = Some(counts);
                }
                "--repeat" => {
                    let value = args.next().ok_or("`--repeat` needs a value")?;
                    repeat = Some(
                        value
                            .trim()
                            .parse::<usize>()
                            .ok()
                            .filter(|&k| k > 0)
                            .ok_or_else(|| {
                                format!("`--repeat {value}` is not a count above zero")
                            })?,
                    );
                }
                "--out" => out = Some(PathBuf::from(args.next().ok_or("`--out` needs a value")?)),
                "--no-write" => out = None,
                "--no-pin" => pin = false,
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        if let Some(counts) = connections {
            sizes.slow_connections = counts.iter().copied().min().unwrap_or(1);
            sizes.redis_connections = sizes.slow_connections;
            sizes.connections = counts;
        }
        if let Some(repeat) = repeat {
            sizes.repeat = repeat;
        }
        let options = Options { sizes, out, pin };
        Ok(match scenario {
            None => Self::All(options),
            Some(scenario) => Self::Scenario(
                scenario,
                Options {
                    out: None,
                    ..options
                },
            ),
        })
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Command::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn all_writes_at_the_workspace_root_unless_told_otherwise() {
        let Ok(Command::All(options)) = parse(&["all"]) else {
            panic!("not `all`")
        };
        assert_eq!(options.sizes, Sizes::full());
        assert!(options.out.unwrap().join("sse-bench").is_dir());
        assert!(options.pin);
        let Ok(Command::All(options)) = parse(&["all", "--quick", "--no-write", "--no-pin"]) else {
            panic!("not `all`")
        };
        assert_eq!(options.sizes, Sizes::quick());
        assert_eq!(options.out, None);
        assert!(!options.pin);
    }

    #[test]
    fn connections_override_the_sizes() {
        let Ok(Command::All(options)) = parse(&["all", "--connections", "200,100"]) else {
            panic!("not `all`")
        };
        assert_eq!(options.sizes.connections, [200, 100]);
        assert_eq!(options.sizes.slow_connections, 100);
    }

    #[test]
    fn repeat_is_parsed_and_printed() {
        let Ok(Command::All(options)) = parse(&["all", "--repeat", "5", "--connections", "10"])
        else {
            panic!("not `all`")
        };
        assert_eq!(options.sizes.repeat, 5);
        assert_eq!(
            options.command_line("all"),
            "cargo run --release -p sse-bench -- all --connections 10 --repeat 5"
        );
        let Ok(Command::Scenario(_, options)) = parse(&["scenario", "idle", "--no-pin"]) else {
            panic!("not `scenario`")
        };
        assert_eq!(
            options.command_line("idle"),
            "cargo run --release -p sse-bench -- scenario idle --repeat 1 --no-pin"
        );
        assert_eq!(
            parse(&["all", "--repeat", "0"]),
            Err("`--repeat 0` is not a count above zero".to_owned())
        );
        assert_eq!(
            parse(&["all", "--repeat"]),
            Err("`--repeat` needs a value".to_owned())
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse(&["bench"]), Err("unknown command `bench`".to_owned()));
        assert_eq!(
            parse(&["scenario", "x"]),
            Err("unknown scenario `x`".to_owned())
        );
        assert_eq!(
            parse(&["all", "--fast"]),
            Err("unknown option `--fast`".to_owned())
        );
        assert!(parse(&["all", "--connections", "a"]).is_err());
        assert_eq!(parse(&[]), Ok(Command::Help));
        assert_eq!(
            parse(&["serve-ours", "--redis"]),
            Err("`--redis` needs a value".to_owned())
        );
    }

    #[test]
    fn serve_ours_takes_a_redis_backplane() {
        assert_eq!(
            parse(&["serve-ours"]),
            Ok(Command::Serve(ServerKind::Ours, ServeOptions::default()))
        );
        let options = ServeOptions {
            redis: Some("redis://127.0.0.1:6379".to_owned()),
            redis_key: Some("bench:1".to_owned()),
        };
        let mut args = vec!["serve-ours".to_owned()];
        args.extend(options.args());
        assert_eq!(
            Command::parse(args),
            Ok(Command::Serve(ServerKind::Ours, options))
        );
    }
}
