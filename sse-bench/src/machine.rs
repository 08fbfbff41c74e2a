//! Facts about the machine a run measured, and placing processes on its cores.

use std::{
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// The machine and the moment of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// When, in UTC: `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// Processors listed in `/proc/cpuinfo` (whatever this process is pinned to).
    pub cores: usize,
    /// The processor model, from `/proc/cpuinfo`.
    pub cpu: Option<String>,
    /// The kernel release, from `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
    /// Physical memory, from `/proc/meminfo`, in bytes.
    pub memory_bytes: Option<u64>,
    /// The 1, 5 and 15 minute load averages when the facts were read.
    pub load_average: Option<[f64; 3]>,
    /// The soft limit on open files of this process.
    pub open_files_limit: Option<u64>,
    /// Whether servers and generator are pinned to separate cores with `taskset`.
    pub pinned: bool,
    /// The allocator this binary was built with, under the counting wrapper: the generator's,
    /// and that of ours and the reference, which run as this same binary.
    pub allocator: String,
}

impl Machine {
    /// Reads the facts now; `pinned` says whether this run pins its processes.
    ///
    /// # Examples
    ///
    /// ```
    /// let machine = sse_bench::Machine::collect(false);
    /// assert!(machine.cores >= 1);
    /// assert!(machine.date.ends_with(" UTC"));
    /// ```
    pub fn collect(pinned: bool) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let listed = cpuinfo
            .lines()
            .filter(|line| line.starts_with("processor"))
            .count();
        let cores = if listed > 0 {
            listed
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        };
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, model)| model.trim().to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|text| text.trim().to_owned());
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("MemTotal:"))
                    .and_then(|rest| {
                        rest.trim()
                            .trim_end_matches("kB")
                            .trim()
                            .parse::<u64>()
                            .ok()
                    })
            })
            .map(|kib| kib * 1024);
        Self {
            date: utc_now(),
            cores,
            cpu,
            kernel,
            memory_bytes,
            load_average: load_average(),
            open_files_limit: open_files_limit(),
            pinned,
            allocator: allocator().to_owned(),
        }
    }
}

/// The allocator under the counting wrapper, from the crate features this binary was built
/// with: `jemalloc` (the default) wins over `mimalloc`; with neither, the system's.
///
/// # Examples
///
/// ```
/// let allocator = sse_bench::allocator();
/// assert!(["jemalloc", "mimalloc", "system"].iter().any(|name| allocator.starts_with(name)));
/// ```
pub fn allocator() -> &'static str {
    if cfg!(feature = "jemalloc") {
        "jemalloc (tikv-jemallocator, feature `jemalloc`, the default)"
    } else if cfg!(feature = "mimalloc") {
        "mimalloc (feature `mimalloc`)"
    } else {
        "system (the C library's malloc, no allocator feature)"
    }
}

/// The soft limit on open files of this process, from `/proc/self/limits`.
pub(crate) fn open_files_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse().ok())
        })
}

/// A command running `program`, through `taskset -c <core>` when a core is given and `taskset`
/// exists (`taskset` executes the program in its own process, so the child's id is the
/// program's).
pub(crate) fn pinned_command(
    program: impl AsRef<std::ffi::OsStr>,
    core: Option<usize>,
) -> tokio::process::Command {
    match core.filter(|_| taskset_available()) {
        Some(core) => {
            let mut command = tokio::process::Command::new("taskset");
            command.arg("-c").arg(core.to_string()).arg(program);
            command
        }
        None => tokio::process::Command::new(program),
    }
}

/// The 1, 5 and 15 minute load averages, from `/proc/loadavg`.
pub(crate) fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// Whether `taskset` can be run.
pub(crate) fn taskset_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::process::Command::new("taskset")
            .arg("-V")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// Pins every thread of this process to core 1 with `taskset`, when the machine has two cores
/// or more, leaving core 0 to the server processes; threads started later inherit it. Returns
/// whether it worked.
pub fn pin_generator() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores >= 2
        && taskset_available()
        && std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}

/// The current time in UTC as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_of_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }
}
