//! A server under test, in a process of its own (or nginx's) or in this one.

use std::{io, net::SocketAddr, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout},
    time::timeout,
};

use crate::{
    InProcessServer, NchanProcess, Nginx, ProcessSample, ServeOptions, ServerKind, ServerStats,
    machine::pinned_command,
};

/// How long a server process may take to start or to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A server in a process of its own: this executable's `serve-ours` or `serve-reference`
/// subcommand, pinned to a core with `taskset` when asked and available.
///
/// The process is killed when the handle is dropped, and it exits by itself when this process
/// dies (its standard input closes).
#[derive(Debug)]
pub struct ServerProcess {
    kind: ServerKind,
    addr: SocketAddr,
    pid: u32,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl ServerProcess {
    /// Starts `kind` and waits until it listens.
    ///
    /// # Errors
    ///
    /// The I/O error of starting the process, or `TimedOut` / `InvalidData` when it does not
    /// say where it listens within 10 seconds; `Unsupported` for nchan (see
    /// [`NchanProcess`]).
    pub async fn spawn(kind: ServerKind, core: Option<usize>) -> io::Result<Self> {
        Self::spawn_with(kind, core, &ServeOptions::default()).await
    }

    /// As [`spawn`](Self::spawn), with ours on a Redis backplane when `options.redis` is set.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn).
    pub async fn spawn_with(
        kind: ServerKind,
        core: Option<usize>,
        options: &ServeOptions,
    ) -> io::Result<Self> {
        let subcommand = kind.subcommand().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{} is not served by this binary", kind.name()),
            )
        })?;
        let mut child = pinned_command(std::env::current_exe()?, core)
            .arg(subcommand)
            .args(options.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("server exited at once"))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let mut stdout = BufReader::new(stdout).lines();
        let line = answer(&mut stdout).await?;
        let addr = line
            .strip_prefix("listening ")
            .and_then(|addr| addr.trim().parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, line.clone()))?;
        Ok(Self {
            kind,
            addr,
            pid,
            child,
            stdin,
            stdout,
        })
    }

    /// Asks the server for its [`ServerStats`].
    ///
    /// # Errors
    ///
    /// The I/O error of talking to the process, or `TimedOut` / `InvalidData`.
    pub async fn stats(&mut self) -> io::Result<ServerStats> {
        self.stdin.write_all(b"stats\n").await?;
        self.stdin.flush().await?;
        let line = answer(&mut self.stdout).await?;
        serde_json::from_str(&line).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
    }

    /// Asks the server to stop, and kills it if it has not within 10 seconds.
    pub async fn stop(mut self) {
        let _ = self.stdin.write_all(b"quit\n").await;
        let _ = self.stdin.flush().await;
        if timeout(ANSWER_TIMEOUT, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// The next line the server prints, within [`ANSWER_TIMEOUT`].
async fn answer(stdout: &mut Lines<BufReader<ChildStdout>>) -> io::Result<String> {
    match timeout(ANSWER_TIMEOUT, stdout.next_line()).await {
        Ok(Ok(Some(line))) => Ok(line),
        Ok(Ok(None)) => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server process exited",
        )),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the server process did not answer",
        )),
    }
}

/// The server a run measures.
#[derive(Debug)]
pub enum ServerHandle {
    /// A process of its own: memory is measured.
    Process(Box<ServerProcess>),
    /// nginx with nchan, a master and a worker: memory and CPU are their sums.
    Nchan(Box<NchanProcess>),
    /// On this process's runtime (tests): memory is not measured.
    InProcess(InProcessServer),
}

impl ServerHandle {
    /// Starts `kind` in a process of its own (nchan: nginx's), pinned to `core` when `taskset`
    /// exists.
    ///
    /// # Errors
    ///
    /// As [`ServerProcess::spawn`] or [`NchanProcess::start`]; for nchan, `NotFound` when
    /// nginx or its module is not installed.
    pub async fn process(kind: ServerKind, core: Option<usize>) -> io::Result<Self> {
        Self::process_with(kind, core, &ServeOptions::default()).await
    }

    /// As [`process`](Self::process), with ours on a Redis backplane when `options.redis` is
    /// set (the others ignore the options).
    ///
    /// # Errors
    ///
    /// As [`process`](Self::process).
    pub async fn process_with(
        kind: ServerKind,
        core: Option<usize>,
        options: &ServeOptions,
    ) -> io::Result<Self> {
        if kind == ServerKind::Nchan {
            let nginx =
                Nginx::find().map_err(|reason| io::Error::new(io::ErrorKind::NotFound, reason))?;
            return Self::nchan(&nginx, core).await;
        }
        ServerProcess::spawn_with(kind, core, options)
            .await
            .map(|p| Self::Process(Box::new(p)))
    }

    /// Starts nginx with nchan from `nginx`, pinned to `core` when `taskset` exists.
    ///
    /// # Errors
    ///
    /// As [`NchanProcess::start`].
    pub async fn nchan(nginx: &Nginx, core: Option<usize>) -> io::Result<Self> {
        NchanProcess::start(nginx, core)
            .await
            .map(|p| Self::Nchan(Box::new(p)))
    }

    /// Starts `kind` on the current runtime, with ours on a Redis backplane when
    /// `options.redis` is set.
    ///
    /// # Errors
    ///
    /// As [`InProcessServer::start_with`].
    pub async fn in_process_with(kind: ServerKind, options: &ServeOptions) -> io::Result<Self> {
        InProcessServer::start_with(kind, options)
            .await
            .map(Self::InProcess)
    }

    /// Starts `kind` on the current runtime.
    ///
    /// # Errors
    ///
    /// As [`InProcessServer::start`].
    pub async fn in_process(kind: ServerKind) -> io::Result<Self> {
        InProcessServer::start(kind).await.map(Self::InProcess)
    }

    /// Which server.
    pub fn kind(&self) -> ServerKind {
        match self {
            Self::Process(p) => p.kind,
            Self::Nchan(_) => ServerKind::Nchan,
            Self::InProcess(s) => s.kind(),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Self::Process(p) => p.addr,
            Self::Nchan(n) => n.addr(),
            Self::InProcess(s) => s.addr(),
        }
    }

    /// The server's process id (nchan: nginx's master), when it has a process of its own.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Self::Process(p) => Some(p.pid),
            Self::Nchan(n) => Some(n.pid()),
            Self::InProcess(_) => None,
        }
    }

    /// The server process's memory, open files and CPU time (nchan: summed over nginx's master
    /// and workers); `None` in process.
    pub fn sample(&self) -> Option<ProcessSample> {
        match self {
            Self::Process(p) => ProcessSample::read(p.pid).ok(),
            Self::Nchan(n) => n.sample(),
            Self::InProcess(_) => None,
        }
    }

    /// The server's own statistics; `None` when the process does not answer.
    pub async fn stats(&mut self) -> Option<ServerStats> {
        match self {
            Self::Process(p) => p.stats().await.ok(),
            Self::Nchan(n) => n.stats().await.ok(),
            Self::InProcess(s) => Some(s.stats()),
        }
    }

    /// Stops the server.
    pub async fn stop(self) {
        match self {
            Self::Process(p) => (*p).stop().await,
            Self::Nchan(n) => (*n).stop().await,
            Self::InProcess(s) => s.stop(),
        }
    }
}
