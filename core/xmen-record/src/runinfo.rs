//! Who is running an experiment (issue 9): the `_run` and `_slurm` keys of params.yml.
//!
//! A run records, when it starts, the process that runs it ([`RunInfo`], under `_run`): host,
//! pid, the pid's start time and the boot and pid-namespace ids (so a reused pid or a reboot is
//! never mistaken for the run), the heartbeat period, and its SLURM job, array task and restart
//! count. `xmen run ... sbatch` records the submitted job ([`Submission`], under `_slurm`)
//! before the job starts. Both are plain `_` keys, so any reader (the original included) keeps
//! them verbatim; `xmen list` and `xmen reconcile` read them to tell a live run from one whose
//! process is gone.

use std::path::Path;
use std::time::Duration;

use xmen_core::pyfmt;
use xmen_core::Value;

use crate::record::{Extra, Record};

/// The key of [`RunInfo`] in params.yml.
pub const RUN_KEY: &str = "_run";
/// The key of [`Submission`] in params.yml.
pub const SUBMIT_KEY: &str = "_slurm";
/// The environment variable that sets the heartbeat period in seconds (default
/// [`DEFAULT_HEARTBEAT_SECS`]; `0` turns the heartbeat off).
pub const HEARTBEAT_ENV: &str = "XMEN_HEARTBEAT_SECS";
/// The default heartbeat period.
pub const DEFAULT_HEARTBEAT_SECS: u64 = 30;

const RUN_HELP: &str = "The process running the experiment (host, pid, SLURM job) and its heartbeat period";
const SUBMIT_HELP: &str = "The SLURM job the experiment was submitted as";

/// A SLURM job as seen from inside it (`SLURM_*` variables).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlurmJob {
    /// `SLURM_JOB_ID`: the job's own id (an array task has its own too).
    pub job_id: String,
    /// `SLURM_ARRAY_JOB_ID`, for an array task.
    pub array_job_id: Option<String>,
    /// `SLURM_ARRAY_TASK_ID`, for an array task.
    pub array_task_id: Option<String>,
    /// `SLURM_RESTART_COUNT`: how many times the job was requeued (0 for the first run).
    pub restart_count: u32,
}

impl SlurmJob {
    /// The job this process runs in, from `SLURM_JOB_ID` (or `SLURM_JOBID`); `None` outside
    /// SLURM.
    pub fn from_env() -> Option<SlurmJob> {
        let var = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let job_id = var("SLURM_JOB_ID").or_else(|| var("SLURM_JOBID"))?;
        Some(SlurmJob {
            job_id,
            array_job_id: var("SLURM_ARRAY_JOB_ID"),
            array_task_id: var("SLURM_ARRAY_TASK_ID"),
            restart_count: var("SLURM_RESTART_COUNT").and_then(|v| v.parse().ok()).unwrap_or(0),
        })
    }
}

/// The process running an experiment, recorded under `_run` when the run starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// The host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The process's start time in clock ticks after boot (`/proc/PID/stat` field 22), so a
    /// reused pid is told apart.
    pub pid_start: Option<u64>,
    /// `/proc/sys/kernel/random/boot_id`: a reboot ends every run.
    pub boot_id: Option<String>,
    /// The pid namespace (`pid:[4026531836]`): pids are only comparable inside one.
    pub pid_ns: Option<String>,
    /// How often the run refreshes `_timestamps.last`, in seconds (0: never).
    pub heartbeat_secs: u64,
    /// The SLURM job, under SLURM.
    pub slurm: Option<SlurmJob>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn get<'a>(map: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn extra<'a>(rec: &'a Record, key: &str) -> Option<&'a [(String, Value)]> {
    rec.extra.iter().find(|e| e.key == key).and_then(|e| match &e.value {
        Value::Map(m) => Some(m.as_slice()),
        _ => None,
    })
}

fn set_extra(rec: &mut Record, key: &str, value: Value, help: &str) {
    match rec.extra.iter_mut().find(|e| e.key == key) {
        Some(e) => e.value = value,
        None => rec.extra.push(Extra { key: key.to_owned(), value, comment: help.to_owned() }),
    }
}

/// This process's start time in clock ticks after boot, from `/proc/{pid}/stat`.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // after `)`: field 3 (state) is index 0, so field 22 (starttime) is index 19.
    if fields.first() == Some(&"Z") {
        return None; // a zombie has finished
    }
    fields.get(19)?.parse().ok()
}

/// The kernel's boot id.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_owned())
}

/// This process's pid namespace (`pid:[4026531836]`).
pub fn pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid").ok().map(|p| p.display().to_string())
}

/// The heartbeat period from [`HEARTBEAT_ENV`], else [`DEFAULT_HEARTBEAT_SECS`].
pub fn heartbeat_period() -> Duration {
    let secs = std::env::var(HEARTBEAT_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(DEFAULT_HEARTBEAT_SECS as f64);
    Duration::from_secs_f64(secs)
}

impl RunInfo {
    /// This process, with a heartbeat of `heartbeat` (rounded up to whole seconds).
    pub fn current(heartbeat: Duration) -> RunInfo {
        let pid = std::process::id();
        let secs = heartbeat.as_secs() + u64::from(heartbeat.subsec_nanos() > 0);
        RunInfo {
            host: crate::meta::host_name(),
            pid,
            pid_start: process_start(pid),
            boot_id: boot_id(),
            pid_ns: pid_namespace(),
            heartbeat_secs: secs,
            slurm: SlurmJob::from_env(),
        }
    }

    /// The `_run` map.
    pub fn to_value(&self) -> Value {
        let mut m: Vec<(String, Value)> =
            vec![("host".into(), Value::Str(self.host.clone())), ("pid".into(), Value::Int(i64::from(self.pid)))];
        let opt = |m: &mut Vec<(String, Value)>, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.push((k.to_owned(), v));
            }
        };
        opt(&mut m, "pid_start", self.pid_start.and_then(|s| i64::try_from(s).ok()).map(Value::Int));
        opt(&mut m, "boot_id", self.boot_id.clone().map(Value::Str));
        opt(&mut m, "pid_ns", self.pid_ns.clone().map(Value::Str));
        m.push(("heartbeat".into(), Value::Int(i64::try_from(self.heartbeat_secs).unwrap_or(i64::MAX))));
        if let Some(j) = &self.slurm {
            m.push(("slurm_job_id".into(), Value::Str(j.job_id.clone())));
            opt(&mut m, "slurm_array_job_id", j.array_job_id.clone().map(Value::Str));
            opt(&mut m, "slurm_array_task_id", j.array_task_id.clone().map(Value::Str));
            m.push(("slurm_restart_count".into(), Value::Int(i64::from(j.restart_count))));
        }
        Value::Map(m)
    }

    /// Read `_run` from a record (`None` when absent or without a host and pid).
    pub fn of(rec: &Record) -> Option<RunInfo> {
        let m = extra(rec, RUN_KEY)?;
        let host = get(m, "host").and_then(text)?;
        let pid = get(m, "pid").and_then(int).and_then(|p| u32::try_from(p).ok())?;
        let slurm = get(m, "slurm_job_id").and_then(text).map(|job_id| SlurmJob {
            job_id,
            array_job_id: get(m, "slurm_array_job_id").and_then(text),
            array_task_id: get(m, "slurm_array_task_id").and_then(text),
            restart_count: get(m, "slurm_restart_count").and_then(int).and_then(|c| u32::try_from(c).ok()).unwrap_or(0),
        });
        Some(RunInfo {
            host,
            pid,
            pid_start: get(m, "pid_start").and_then(int),
            boot_id: get(m, "boot_id").and_then(text),
            pid_ns: get(m, "pid_ns").and_then(text),
            heartbeat_secs: get(m, "heartbeat").and_then(int).unwrap_or(0),
            slurm,
        })
    }

    /// Write this as the record's `_run`, replacing any previous one.
    pub fn store(&self, rec: &mut Record) {
        set_extra(rec, RUN_KEY, self.to_value(), RUN_HELP);
    }

    /// Whether this process is alive, when that can be told from here: `Some(false)` when it
    /// ran on this host and is gone (no such pid, a zombie, another process under a reused
    /// pid, or the machine rebooted since); `None` on another host or pid namespace.
    pub fn process_alive_here(&self) -> Option<bool> {
        if self.host != crate::meta::host_name() {
            return None;
        }
        if let (Some(then), Some(now)) = (&self.boot_id, boot_id()) {
            if *then != now {
                return Some(false);
            }
        }
        if let (Some(then), Some(now)) = (&self.pid_ns, pid_namespace()) {
            if *then != now {
                return None;
            }
        }
        if !Path::new("/proc/self/stat").exists() {
            return None;
        }
        Some(match (process_start(self.pid), self.pid_start) {
            (None, _) => false,
            (Some(now), Some(then)) => now == then,
            (Some(_), None) => true,
        })
    }
}

/// A submitted SLURM job, recorded under `_slurm` by `xmen run ... sbatch`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Submission {
    /// The job id `sbatch --parsable` printed; for an array task, `{array}_{task}`.
    pub job_id: String,
    /// The array job id, for an array task.
    pub array_job_id: Option<String>,
    /// The task index, for an array task.
    pub array_task_id: Option<u32>,
    /// When it was submitted (`_timestamps` format).
    pub submitted: String,
}

impl Submission {
    /// A single job submitted now.
    pub fn job(job_id: &str) -> Submission {
        Submission { job_id: job_id.to_owned(), submitted: pyfmt::now_stamp(), ..Submission::default() }
    }

    /// Task `task` of array job `array`, submitted now.
    pub fn array_task(array: &str, task: u32) -> Submission {
        Submission {
            job_id: format!("{array}_{task}"),
            array_job_id: Some(array.to_owned()),
            array_task_id: Some(task),
            submitted: pyfmt::now_stamp(),
        }
    }

    /// The `_slurm` map.
    pub fn to_value(&self) -> Value {
        let mut m = vec![("job_id".to_owned(), Value::Str(self.job_id.clone()))];
        if let Some(a) = &self.array_job_id {
            m.push(("array_job_id".into(), Value::Str(a.clone())));
        }
        if let Some(t) = self.array_task_id {
            m.push(("array_task_id".into(), Value::Int(i64::from(t))));
        }
        m.push(("submitted".into(), Value::Str(self.submitted.clone())));
        Value::Map(m)
    }

    /// Read `_slurm` from a record.
    pub fn of(rec: &Record) -> Option<Submission> {
        let m = extra(rec, SUBMIT_KEY)?;
        Some(Submission {
            job_id: get(m, "job_id").and_then(text)?,
            array_job_id: get(m, "array_job_id").and_then(text),
            array_task_id: get(m, "array_task_id").and_then(int).and_then(|t| u32::try_from(t).ok()),
            submitted: get(m, "submitted").and_then(text).unwrap_or_default(),
        })
    }

    /// Write this as the record's `_slurm`, replacing any previous one.
    pub fn store(&self, rec: &mut Record) {
        set_extra(rec, SUBMIT_KEY, self.to_value(), SUBMIT_HELP);
    }
}

/// How long ago `_timestamps.last` was written (`None` when absent, unparsable or in the
/// future).
pub fn heartbeat_age(rec: &Record) -> Option<Duration> {
    let last = rec.timestamps.last.as_deref()?;
    let naive = chrono::NaiveDateTime::parse_from_str(last, pyfmt::DATE_FORMAT).ok()?;
    let then = naive.and_local_timezone(chrono::Local).earliest()?;
    (chrono::Local::now() - then).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_info_round_trips_through_a_params_file() {
        let mut info = RunInfo::current(Duration::from_millis(1500));
        assert_eq!(info.heartbeat_secs, 2);
        info.slurm = Some(SlurmJob {
            job_id: "43".into(),
            array_job_id: Some("41".into()),
            array_task_id: Some("2".into()),
            restart_count: 1,
        });
        let mut rec = Record::default();
        info.store(&mut rec);
        Submission::array_task("41", 2).store(&mut rec);
        let text = rec.to_params_yaml().unwrap_or_default();
        let back = Record::from_yaml_str(&text).unwrap_or_default();
        assert_eq!(RunInfo::of(&back), Some(info), "{text}");
        let sub = Submission::of(&back).unwrap_or_default();
        assert_eq!((sub.job_id.as_str(), sub.array_task_id), ("41_2", Some(2)));
        // storing again replaces, never duplicates
        RunInfo::current(Duration::ZERO).store(&mut rec);
        assert_eq!(rec.extra.iter().filter(|e| e.key == RUN_KEY).count(), 1);
    }

    #[test]
    fn this_process_is_alive_and_a_dead_or_reused_pid_is_not() {
        let me = RunInfo::current(Duration::ZERO);
        assert_eq!(me.process_alive_here(), Some(true));
        let reused = RunInfo { pid_start: me.pid_start.map(|s| s + 1), ..me.clone() };
        assert_eq!(reused.process_alive_here(), Some(false));
        let mut child = std::process::Command::new("true").spawn().unwrap_or_else(|e| panic!("{e}"));
        let pid = child.id();
        let _ = child.wait();
        assert_eq!(RunInfo { pid, ..me.clone() }.process_alive_here(), Some(false));
        let rebooted = RunInfo { boot_id: Some("another boot".into()), ..me.clone() };
        assert_eq!(rebooted.process_alive_here(), Some(false));
        let elsewhere = RunInfo { host: "some-other-host".into(), ..me };
        assert_eq!(elsewhere.process_alive_here(), None);
    }

    #[test]
    fn heartbeat_age_reads_the_last_timestamp() {
        let mut rec = Record::default();
        assert_eq!(heartbeat_age(&rec), None);
        rec.timestamps.last = Some(pyfmt::now_stamp());
        assert!(heartbeat_age(&rec).is_some_and(|a| a < Duration::from_secs(5)));
        rec.timestamps.last = Some("20-01-01-00-00-00-000000".into());
        assert!(heartbeat_age(&rec).is_some_and(|a| a > Duration::from_secs(86_400)));
        rec.timestamps.last = Some("06:58PM September 16, 2019".into());
        assert_eq!(heartbeat_age(&rec), None);
    }
}
