//! The third server: nginx with the nchan module, a C pub/sub server that speaks SSE, started
//! privately from a generated configuration.
//!
//! Each [`NchanProcess`] is one `nginx` master with one worker (`daemon off; master_process
//! on; worker_processes 1;`), pinned like the other servers, listening on `127.0.0.1` on a
//! free port, with everything it writes (configuration, pid file, error log, temporary files)
//! in a private directory that goes away with it. Its two routes match the other servers':
//!
//! - `GET /stream`: an `eventsource` subscriber of the one broadcast channel. nchan answers
//!   `200` with `content-type: text/event-stream`, a body without chunked encoding, and the
//!   comment `: hi` once the subscriber is enqueued on its channel; then one event per message,
//!   `id: <time>:<n>` and the data, with no `event:` line and no `connected` event;
//! - `POST /publish`: the `nchan_publisher` of that channel; the body becomes the event's data,
//!   answered `201 Created` (or `202 Accepted` with no subscriber).
//!
//! `GET /status` is `nchan_stub_status`, read for the number of open subscribers.
//!
//! ## Message buffer
//!
//! nchan keeps a channel's messages in a buffer in shared memory (`nchan_message_buffer_length`,
//! 10 messages by default, for `nchan_message_timeout`, 1 hour by default). A subscriber that is
//! behind fetches its next message by id from that buffer, and a message that has already left
//! the buffer is skipped for it. In these runs no subscriber gets behind that way: with one
//! worker, nchan writes each message to every subscriber's connection (nginx keeps what the
//! socket does not take) before it answers the publish request, so the publish round trip is the
//! fan-out time, and a build with the default of 10 lost nothing at overload or paced broadcast
//! with 10k streams. The configuration still keeps [`MESSAGE_BUFFER_LENGTH`] messages (the
//! reference's broadcast capacity) for [`MESSAGE_TIMEOUT`] (the age bound of our replay
//! history), so that no result depends on that detail, in a shared memory zone of
//! [`SHARED_MEMORY_SIZE`] (nchan's default, stated: a hundred small messages use a few KiB of
//! it, and untouched pages of the zone cost nothing). Streams start at the newest message
//! (`nchan_subscriber_first_message newest`; nchan's default, `oldest`, would replay the buffer
//! to a new stream), like the other servers' live streams.
//!
//! ## Processes
//!
//! nginx's worker outlives a master that is killed, so stopping and dropping a process end the
//! master and then every worker it had, by process id. Memory and CPU figures are the sums over
//! the master and its workers (see [`ProcessSample`]).

use std::{
    fmt::Write as _,
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::Child,
    time::{Instant, sleep, timeout},
};

use crate::{
    ProcessSample, ServerStats,
    machine::{self, pinned_command},
    sample::children,
};

/// The broadcast channel both locations use.
pub const CHANNEL_ID: &str = "bench";
/// Messages nchan keeps per channel (`nchan_message_buffer_length`; nchan's default is 10).
pub const MESSAGE_BUFFER_LENGTH: u32 = 1024;
/// How long nchan keeps a message (`nchan_message_timeout`; nchan's default is 1h).
pub const MESSAGE_TIMEOUT: &str = "5m";
/// nchan's shared memory zone (`nchan_shared_memory_size`; the default, stated).
pub const SHARED_MEMORY_SIZE: &str = "128M";
/// The Debian packages that provide nginx and the nchan module.
pub const PACKAGES: [&str; 2] = ["nginx-light", "libnginx-mod-nchan"];

/// How long nginx may take to start, to answer or to stop.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a starting nginx is asked whether it answers.
const START_POLL: Duration = Duration::from_millis(20);
/// How long a dropped nginx's processes may take to end, and how often that is checked.
const KILL_TIMEOUT: Duration = Duration::from_secs(2);
const KILL_POLL: Duration = Duration::from_millis(5);
/// Where nginx is looked for besides `PATH` (`/usr/sbin` is not on every user's `PATH`).
const SBIN: [&str; 3] = ["/usr/sbin", "/usr/local/sbin", "/sbin"];
/// The module's name and the directories distributions put nginx modules in.
const MODULE_FILE: &str = "ngx_nchan_module.so";
const MODULE_DIRS: [&str; 4] = [
    "/usr/lib/nginx/modules",
    "/usr/share/nginx/modules",
    "/usr/lib64/nginx/modules",
    "/usr/local/lib/nginx/modules",
];
/// Where Debian's packages say which modules to load (`load_module` lines).
const MODULE_CONFS: [&str; 2] = [
    "/etc/nginx/modules-enabled",
    "/usr/share/nginx/modules-available",
];
/// nginx's prefix when `nginx -V` does not name one: relative module paths start there.
const DEFAULT_PREFIX: &str = "/usr/share/nginx";

/// An installed nginx and its nchan module.
///
/// # Examples
///
/// ```no_run
/// match sse_bench::Nginx::find() {
///     Ok(nginx) => println!("{} with {}", nginx.binary.display(), nginx.module.display()),
///     Err(reason) => println!("nchan: skipped: {reason}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nginx {
    /// The `nginx` executable.
    pub binary: PathBuf,
    /// The nchan module, for `load_module`.
    pub module: PathBuf,
}

impl Nginx {
    /// Finds `nginx` (on `PATH` or in the usual `sbin` directories) and the nchan module (in
    /// the usual module directories, or where a `load_module` line of Debian's module
    /// configuration says).
    ///
    /// # Errors
    ///
    /// What is missing, as a sentence fragment for a skip line.
    pub fn find() -> Result<Self, String> {
        let binary = find_binary().ok_or("nginx is not installed")?;
        let module = find_module(&binary).ok_or("the nginx nchan module is not installed")?;
        Ok(Self { binary, module })
    }

    /// As [`find`](Self::find), installing the [`PACKAGES`] with `apt-get` first when
    /// something is missing and this process runs as root; `say` gets the line announcing the
    /// installation. `apt-get`'s own output goes to standard error.
    ///
    /// # Errors
    ///
    /// Why nchan cannot run: what is missing and why it was not installed, or what is still
    /// missing after installing.
    pub fn find_or_install(say: impl FnOnce(&str)) -> Result<Self, String> {
        let reason = match Self::find() {
            Ok(nginx) => return Ok(nginx),
            Err(reason) => reason,
        };
        let packages = PACKAGES.join(" ");
        if !running_as_root() {
            return Err(format!(
                "{reason} (install the Debian packages {packages}; the benchmark installs them \
                 when run as root)"
            ));
        }
        say(&format!(
            "nchan: {reason}: installing {packages} with apt-get (running as root)"
        ));
        install().map_err(|err| format!("{reason}, and installing {packages} failed: {err}"))?;
        Self::find().map_err(|reason| format!("{reason} after installing {packages}"))
    }

    /// Runs `nginx -t` on the configuration in `dir` (as [`NchanProcess`] writes it), which
    /// parses it and loads the module without serving.
    ///
    /// # Errors
    ///
    /// What nginx said about the configuration, or the I/O error of running it.
    pub async fn test_config(&self, dir: &Path) -> io::Result<()> {
        let output = tokio::process::Command::new(&self.binary)
            .args(nginx_args(dir))
            .arg("-t")
            .arg("-q")
            .stdin(Stdio::null())
            .output()
            .await?;
        if output.status.success() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "nginx -t: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            ))
        }
    }
}

/// The nginx configuration of one [`NchanProcess`].
///
/// # Examples
///
/// ```
/// use sse_bench::NchanConfig;
///
/// let config = NchanConfig::new("/tmp/bench".as_ref(), "/x/ngx_nchan_module.so".as_ref(), 8080);
/// let text = config.render();
/// assert!(text.contains("listen 127.0.0.1:8080 backlog=1024;"));
/// assert!(text.contains("nchan_message_buffer_length 1024;"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NchanConfig {
    /// The private directory: pid file, error log and temporary files go there.
    pub dir: PathBuf,
    /// The nchan module to load.
    pub module: PathBuf,
    /// The port on `127.0.0.1`.
    pub port: u16,
    /// nginx's `worker_connections`: streams, publishers and status requests together.
    pub worker_connections: u64,
}

impl NchanConfig {
    /// The configuration for `dir`, `module` and `port`, with as many worker connections as
    /// this process may open files (at least 1024, at most 65536).
    pub fn new(dir: &Path, module: &Path, port: u16) -> Self {
        Self {
            dir: dir.to_owned(),
            module: module.to_owned(),
            port,
            worker_connections: machine::open_files_limit().map_or(1024, |l| l.clamp(1024, 65536)),
        }
    }

    /// The text of `nginx.conf`.
    pub fn render(&self) -> String {
        let dir = |name: &str| quoted(&self.dir.join(name));
        let mut conf = String::new();
        let _ = write!(
            conf,
            "\
# Generated by sse-bench: nginx with nchan, one master and one worker, on loopback.
daemon off;
master_process on;
worker_processes 1;
pid {pid};
error_log {log} warn;
load_module {module};

events {{
    worker_connections {connections};
}}

http {{
    access_log off;
    client_body_temp_path {client_body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};
    # Publish bodies stay in memory; publishers keep their connection for the whole run.
    client_body_buffer_size 64k;
    keepalive_requests 1000000;
    keepalive_timeout 300s;

    # A subscriber that is behind fetches its next message from the channel's buffer: keep
    # as many as the reference's broadcast channel, for as long as our replay history.
    nchan_shared_memory_size {shared_memory};
    nchan_message_buffer_length {buffer};
    nchan_message_timeout {message_timeout};

    server {{
        listen 127.0.0.1:{port} backlog=1024;

        location = /stream {{
            nchan_subscriber eventsource;
            nchan_channel_id {channel};
            nchan_subscriber_first_message newest;
        }}

        location = /publish {{
            nchan_publisher;
            nchan_channel_id {channel};
        }}

        location = /status {{
            nchan_stub_status;
        }}
    }}
}}
",
            pid = dir("nginx.pid"),
            log = dir("error.log"),
            module = quoted(&self.module),
            connections = self.worker_connections,
            client_body = dir("client_body"),
            proxy = dir("proxy"),
            fastcgi = dir("fastcgi"),
            uwsgi = dir("uwsgi"),
            scgi = dir("scgi"),
            shared_memory = SHARED_MEMORY_SIZE,
            buffer = MESSAGE_BUFFER_LENGTH,
            message_timeout = MESSAGE_TIMEOUT,
            port = self.port,
            channel = CHANNEL_ID,
        );
        conf
    }
}

/// nginx with nchan in processes of its own: a master and one worker.
///
/// Dropping it kills the master and then its workers, and removes its directory.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use sse_bench::{NchanProcess, Nginx};
///
/// let nginx = Nginx::find().map_err(std::io::Error::other)?;
/// let server = NchanProcess::start(&nginx, Some(0)).await?;
/// assert_eq!(server.stats().await?.connections, 0);
/// server.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NchanProcess {
    addr: SocketAddr,
    pid: u32,
    workers: Vec<u32>,
    child: Child,
    dir: PrivateDir,
}

impl NchanProcess {
    /// Writes the configuration to a new private directory, checks it with `nginx -t`, starts
    /// nginx (through `taskset -c <core>` when a core is given) and waits until it answers
    /// `GET /status`. A port taken between choosing it and nginx binding it is retried twice.
    ///
    /// # Errors
    ///
    /// The I/O error of the directory or of starting nginx, `InvalidInput` with what `nginx -t`
    /// said, or the end of nginx's error log when it exits or does not answer within 10
    /// seconds. Nothing is left running.
    pub async fn start(nginx: &Nginx, core: Option<usize>) -> io::Result<Self> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(nginx, core).await {
                Err(err) if err.kind() == io::ErrorKind::AddrInUse && attempt < 3 => {}
                outcome => return outcome,
            }
        }
    }

    async fn start_once(nginx: &Nginx, core: Option<usize>) -> io::Result<Self> {
        let dir = PrivateDir::create()?;
        let port = free_port()?;
        let config = NchanConfig::new(dir.path(), &nginx.module, port);
        std::fs::write(dir.path().join("nginx.conf"), config.render())?;
        nginx.test_config(dir.path()).await?;
        let child = pinned_command(&nginx.binary, core)
            .args(nginx_args(dir.path()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("nginx exited at once"))?;
        // From here on, dropping `process` on an error path ends nginx.
        let mut process = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            pid,
            workers: Vec::new(),
            child,
            dir,
        };
        process.wait_answering().await?;
        process.workers = children(pid);
        Ok(process)
    }

    /// Polls `GET /status` until nginx answers, it exits, or 10 seconds pass.
    async fn wait_answering(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = self.log_tail();
                let kind = if log.contains("Address already in use") {
                    io::ErrorKind::AddrInUse
                } else {
                    io::ErrorKind::Other
                };
                return Err(io::Error::new(
                    kind,
                    format!("nginx exited ({status}): {log}"),
                ));
            }
            if self.stats().await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("nginx did not answer within 10 s: {}", self.log_tail()),
                ));
            }
            sleep(START_POLL).await;
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Its private directory, holding `nginx.conf`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The master's process id and its workers'.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.pid];
        pids.extend(children(self.pid));
        pids
    }

    /// The master and its workers, summed; `None` when a process cannot be read.
    pub fn sample(&self) -> Option<ProcessSample> {
        ProcessSample::read_all(&self.pids()).ok()
    }

    /// Open subscribers, from `GET /status` (nchan counts no heap and no hub counters).
    ///
    /// # Errors
    ///
    /// The I/O error of the request, `TimedOut`, or `InvalidData` when the answer has no
    /// `subscribers:` line.
    pub async fn stats(&self) -> io::Result<ServerStats> {
        let body = get(self.addr, "/status").await?;
        parse_status(&body).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no subscriber count in {body:?}"),
            )
        })
    }

    /// Asks nginx to stop (`SIGTERM`: the master ends its workers and exits) and waits for it,
    /// at most 10 seconds; whatever is left is killed.
    pub async fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal("TERM", &[self.pid]);
            let _ = timeout(ANSWER_TIMEOUT, self.child.wait()).await;
        }
        // Drop kills anything left.
    }

    /// The last lines of the error log, on one line.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
        if tail.is_empty() {
            "nothing in its error log".to_owned()
        } else {
            tail
        }
    }
}

impl Drop for NchanProcess {
    /// Kills the master first, so that it cannot start a new worker, then every worker it had
    /// that is still an nginx process, and waits (at most 2 seconds) until none of them runs.
    fn drop(&mut self) {
        let mut workers = children(self.pid);
        workers.extend(self.workers.iter().copied());
        workers.sort_unstable();
        workers.dedup();
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.start_kill();
        }
        workers.retain(|&pid| is_nginx(pid));
        if !workers.is_empty() {
            signal("KILL", &workers);
        }
        let deadline = std::time::Instant::now() + KILL_TIMEOUT;
        let mut all = workers;
        all.push(self.pid);
        while all.iter().any(|&pid| is_nginx(pid)) && std::time::Instant::now() < deadline {
            std::thread::sleep(KILL_POLL);
        }
    }
}

/// Whether process `pid` is a running nginx process: its id may have been reused since, and a
/// process that has ended but not been reaped has an empty command line.
fn is_nginx(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| cmdline.starts_with(b"nginx"))
}

/// Sends `signal` to `pids` with `kill` (no signal API without `unsafe`).
fn signal(signal: &str, pids: &[u32]) {
    let _ = std::process::Command::new("kill")
        .arg("-s")
        .arg(signal)
        .args(pids.iter().map(u32::to_string))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// nginx's arguments for the configuration in `dir`: prefix, configuration, and the error log
/// for what it says before reading the configuration.
fn nginx_args(dir: &Path) -> [std::ffi::OsString; 6] {
    [
        "-p".into(),
        dir.into(),
        "-c".into(),
        dir.join("nginx.conf").into(),
        "-e".into(),
        dir.join("error.log").into(),
    ]
}

/// The body of `GET <path>` on a fresh connection, within 10 seconds.
async fn get(addr: SocketAddr, path: &str) -> io::Result<String> {
    let exchange = async {
        let mut socket = TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        socket.read_to_end(&mut response).await?;
        Ok::<_, io::Error>(response)
    };
    let response = timeout(ANSWER_TIMEOUT, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "nginx did not answer"))??;
    let text = String::from_utf8_lossy(&response);
    match text.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200 ") => Ok(body.to_owned()),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("GET {path}: {}", text.lines().next().unwrap_or("no answer")),
        )),
    }
}

/// The subscriber count of an `nchan_stub_status` body.
fn parse_status(body: &str) -> Option<ServerStats> {
    let subscribers = body
        .lines()
        .find_map(|line| line.strip_prefix("subscribers:"))?
        .trim()
        .parse()
        .ok()?;
    Some(ServerStats {
        connections: subscribers,
        ..ServerStats::default()
    })
}

/// A free port on `127.0.0.1`, as the kernel picks one.
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// A path as an nginx string, quoted so that spaces survive.
fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The module in the usual directories, else where a `load_module` line of Debian's module
/// configuration files says (relative to nginx's prefix).
fn find_module(binary: &Path) -> Option<PathBuf> {
    if let Some(found) = MODULE_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(MODULE_FILE))
        .find(|path| path.is_file())
    {
        return Some(found);
    }
    let prefix = nginx_prefix(binary);
    MODULE_CONFS
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .flat_map(|text| load_module_paths(&text))
        .filter(|path| path.ends_with(MODULE_FILE))
        .map(|path| prefix.join(path))
        .find(|path| path.is_file())
}

/// The paths of the `load_module` lines of an nginx configuration file.
fn load_module_paths(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("load_module"))
        .filter_map(|rest| {
            let path = rest.trim().trim_end_matches(';').trim().trim_matches('"');
            (!path.is_empty()).then(|| PathBuf::from(path))
        })
        .collect()
}

/// nginx's prefix, from the `--prefix=` of `nginx -V`.
fn nginx_prefix(binary: &Path) -> PathBuf {
    std::process::Command::new(binary)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|output| {
            let text = String::from_utf8_lossy(&output.stderr).into_owned();
            let at = text.find("--prefix=")? + "--prefix=".len();
            let prefix = text[at..].split_whitespace().next()?.trim_matches('\'');
            Some(PathBuf::from(prefix))
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PREFIX))
}

/// Whether this process's effective user is root (the second `Uid:` field of its status).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// `apt-get install -y` of the [`PACKAGES`], after an `apt-get update` when the first attempt
/// fails (a fresh system has no package lists).
fn install() -> Result<(), String> {
    let apt = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(io::stderr())
            .status()
            .map_err(|err| format!("apt-get: {err}"))
    };
    let install: Vec<&str> = ["install", "-y", "-q"]
        .into_iter()
        .chain(PACKAGES)
        .collect();
    if apt(&install)?.success() {
        return Ok(());
    }
    if !apt(&["update", "-q"])?.success() {
        return Err("apt-get update failed".to_owned());
    }
    match apt(&install)? {
        status if status.success() => Ok(()),
        status => Err(format!("apt-get install: {status}")),
    }
}

/// A directory of its own under the system's temporary directory, removed on drop.
#[derive(Debug)]
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn create() -> io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        loop {
            let path = base.join(format!(
                "sse-bench-nchan-{}-{:016x}",
                std::process::id(),
                fastrand::u64(..)
            ));
            // Readable by nginx's worker, which runs as another user when the master is root.
            match std::fs::DirBuilder::new().mode(0o755).create(&path) {
                Ok(()) => return Ok(Self(path)),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_is_exactly_this() {
        let config = NchanConfig {
            dir: PathBuf::from("/tmp/sse-bench-nchan-1-ab"),
            module: PathBuf::from("/usr/lib/nginx/modules/ngx_nchan_module.so"),
            port: 41234,
            worker_connections: 20000,
        };
        assert_eq!(
            config.render(),
            r#"# Generated by sse-bench: nginx with nchan, one master and one worker, on loopback.
daemon off;
master_process on;
worker_processes 1;
pid "/tmp/sse-bench-nchan-1-ab/nginx.pid";
error_log "/tmp/sse-bench-nchan-1-ab/error.log" warn;
load_module "/usr/lib/nginx/modules/ngx_nchan_module.so";

events {
    worker_connections 20000;
}

http {
    access_log off;
    client_body_temp_path "/tmp/sse-bench-nchan-1-ab/client_body";
    proxy_temp_path "/tmp/sse-bench-nchan-1-ab/proxy";
    fastcgi_temp_path "/tmp/sse-bench-nchan-1-ab/fastcgi";
    uwsgi_temp_path "/tmp/sse-bench-nchan-1-ab/uwsgi";
    scgi_temp_path "/tmp/sse-bench-nchan-1-ab/scgi";
    # Publish bodies stay in memory; publishers keep their connection for the whole run.
    client_body_buffer_size 64k;
    keepalive_requests 1000000;
    keepalive_timeout 300s;

    # A subscriber that is behind fetches its next message from the channel's buffer: keep
    # as many as the reference's broadcast channel, for as long as our replay history.
    nchan_shared_memory_size 128M;
    nchan_message_buffer_length 1024;
    nchan_message_timeout 5m;

    server {
        listen 127.0.0.1:41234 backlog=1024;

        location = /stream {
            nchan_subscriber eventsource;
            nchan_channel_id bench;
            nchan_subscriber_first_message newest;
        }

        location = /publish {
            nchan_publisher;
            nchan_channel_id bench;
        }

        location = /status {
            nchan_stub_status;
        }
    }
}
"#
        );
    }

    #[test]
    fn paths_are_quoted_for_nginx() {
        assert_eq!(quoted(Path::new("/tmp/a b")), r#""/tmp/a b""#);
        assert_eq!(quoted(Path::new(r#"/tmp/a"b"#)), r#""/tmp/a\"b""#);
    }

    #[test]
    fn worker_connections_follow_the_open_files_limit_within_bounds() {
        let config = NchanConfig::new(Path::new("/d"), Path::new("/m.so"), 1);
        assert!((1024..=65536).contains(&config.worker_connections));
        if let Some(limit) = machine::open_files_limit() {
            assert_eq!(config.worker_connections, limit.clamp(1024, 65536));
        }
    }

    #[test]
    fn the_subscriber_count_comes_from_the_stub_status() {
        let body = "total published messages: 100\nstored messages: 100\n\
                    shared memory used: 24K\nshared memory limit: 131072K\nchannels: 1\n\
                    subscribers: 10000\nredis pending commands: 0\nnchan version: 1.3.6\n";
        let stats = parse_status(body).expect("a count");
        assert_eq!(stats.connections, 10_000);
        assert_eq!(stats.heap_bytes, None);
        assert_eq!(parse_status("channels: 1\n"), None);
        assert_eq!(parse_status("subscribers: many\n"), None);
    }

    #[test]
    fn load_module_lines_give_their_paths() {
        let text = "# comment\nload_module modules/ngx_nchan_module.so;\n  load_module \"/a b/x.so\" ;\nother;\n";
        assert_eq!(
            load_module_paths(text),
            [
                PathBuf::from("modules/ngx_nchan_module.so"),
                PathBuf::from("/a b/x.so")
            ]
        );
    }

    #[test]
    fn a_private_directory_goes_away_with_its_contents() {
        let dir = PrivateDir::create().expect("a directory");
        let path = dir.path().to_owned();
        std::fs::write(path.join("nginx.conf"), "x").expect("a file");
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
