//! What `/proc` says about a process: resident memory, open files, CPU time.

use std::{io, sync::OnceLock};

use serde::Serialize;

/// One reading of a process's `/proc` entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSample {
    /// Resident memory (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// The peak of resident memory so far (`VmHWM`), in bytes.
    pub hwm_bytes: u64,
    /// Open file descriptors (entries of `/proc/<pid>/fd`): the listener, the connections and
    /// the runtime's own.
    pub open_files: u64,
    /// User plus system CPU time, in clock ticks (see [`clock_ticks_per_second`]).
    pub cpu_ticks: u64,
    /// The system (kernel) part of `cpu_ticks`.
    pub system_ticks: u64,
}

impl ProcessSample {
    /// Reads process `pid`.
    ///
    /// # Errors
    ///
    /// The I/O error of reading `/proc`, or `InvalidData` when a file does not have the
    /// expected fields (a process that has just exited, or no `/proc`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let me = sse_bench::ProcessSample::read(std::process::id())?;
    /// assert!(me.rss_bytes > 0 && me.hwm_bytes >= me.rss_bytes);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read(pid: u32) -> io::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |field: &str| -> io::Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .map(|kib| kib * 1024)
                .ok_or_else(|| invalid(field))
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name, which sits in parentheses and may hold spaces:
        // state is field 3, utime 14 and stime 15.
        let after_name = stat.rsplit_once(')').ok_or_else(|| invalid("stat"))?.1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |i: usize| -> io::Result<u64> {
            fields
                .get(i)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| invalid("stat"))
        };
        Ok(Self {
            rss_bytes: kib("VmRSS:")?,
            hwm_bytes: kib("VmHWM:")?,
            open_files: std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64,
            cpu_ticks: ticks(11)? + ticks(12)?,
            system_ticks: ticks(12)?,
        })
    }
}

/// Clock ticks per second of [`ProcessSample::cpu_ticks`] (`getconf CLK_TCK`, 100 when that
/// cannot be asked).
pub fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

fn invalid(field: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("no readable {field} in /proc"),
    )
}
