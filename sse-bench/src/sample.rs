//! What `/proc` says about a process, or a group of them: resident and proportional memory,
//! open files, CPU time.

use std::{io, sync::OnceLock};

use serde::Serialize;

/// One reading of a process's `/proc` entries, or the sum over a group of processes.
///
/// ## RSS and PSS
///
/// RSS counts every page a process has resident, shared or not; PSS (`Pss` of
/// `/proc/<pid>/smaps_rollup`) divides each shared page among the processes that map it. For
/// one process the two differ by the shared pages (the executable, libraries), which do not
/// grow with connections, so their per-connection differences agree. For nginx's master and
/// worker, which share nchan's memory zone, the sum of PSS counts that zone once where the sum
/// of RSS counts it once per process that touched it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSample {
    /// Resident memory (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// Proportional set size (`Pss` of `smaps_rollup`), in bytes.
    pub pss_bytes: u64,
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
    /// assert!(me.pss_bytes > 0 && me.pss_bytes <= me.rss_bytes);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read(pid: u32) -> io::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |field: &str| kib_field(&status, field).ok_or_else(|| invalid(field));
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
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
        Ok(Self {
            rss_bytes: kib("VmRSS:")?,
            pss_bytes: kib_field(&rollup, "Pss:").ok_or_else(|| invalid("Pss:"))?,
            hwm_bytes: kib("VmHWM:")?,
            open_files: std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64,
            cpu_ticks: ticks(11)? + ticks(12)?,
            system_ticks: ticks(12)?,
        })
    }

    /// Reads every process of `pids` and adds their figures up (the peak `hwm_bytes` too, which
    /// makes it the sum of the peaks).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), for the first process that cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// use sse_bench::ProcessSample;
    ///
    /// let me = std::process::id();
    /// let twice = ProcessSample::read_all(&[me, me])?;
    /// assert!(twice.rss_bytes > ProcessSample::read(me)?.rss_bytes);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_all(pids: &[u32]) -> io::Result<Self> {
        pids.iter().try_fold(Self::default(), |sum, &pid| {
            let one = Self::read(pid)?;
            Ok(Self {
                rss_bytes: sum.rss_bytes + one.rss_bytes,
                pss_bytes: sum.pss_bytes + one.pss_bytes,
                hwm_bytes: sum.hwm_bytes + one.hwm_bytes,
                open_files: sum.open_files + one.open_files,
                cpu_ticks: sum.cpu_ticks + one.cpu_ticks,
                system_ticks: sum.system_ticks + one.system_ticks,
            })
        })
    }
}

/// The processes whose parent is `parent`, from the `stat` of every process in `/proc`.
pub(crate) fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_of(pid) == Some(parent))
        .collect()
}

/// The parent of process `pid`: field 4 of its `stat`, the second after the command name.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A `<field> <n> kB` line of a `/proc` file, in bytes.
fn kib_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_fields_are_read_in_bytes() {
        let rollup = "55d0c0a8e000-7ffd5e3f1000 ---p 00000000 00:00 0 [rollup]\n\
                      Rss:               18432 kB\n\
                      Pss:                9341 kB\n\
                      Pss_Anon:           7120 kB\n";
        assert_eq!(kib_field(rollup, "Pss:"), Some(9341 * 1024));
        assert_eq!(kib_field(rollup, "Rss:"), Some(18432 * 1024));
        assert_eq!(kib_field(rollup, "Pss_Dirty:"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_is_a_child_of_its_parent() {
        let parent = parent_of(std::process::id()).expect("a parent");
        assert!(children(parent).contains(&std::process::id()));
    }
}
