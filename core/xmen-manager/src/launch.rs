//! `xmen run`: which experiments to launch and with which command.
//!
//! The launcher is prepended to each experiment's run.sh (`bash`, `screen -dm bash`, `sbatch`,
//! `docker run ...`). With `sbatch`, `--job-name={folder}` and `--output={exp}/slurm.out` are
//! added unless the user gave their own, in any spelling (`--job-name X`, `--job-name=X`,
//! `-J X`, `-JX`; the original doubled them). Only `registered` experiments run unless other statuses are asked
//! for. The launcher is looked up before anything runs, so a typo fails once, clearly.

use std::path::{Path, PathBuf};
use std::process::Command;

use xmen_core::Value;
use xmen_record::attempts::RunEnd;
use xmen_record::runinfo::RunInfo;
use xmen_record::{Keep, RecordError, RecordFile, Status, WriteOpts};

use crate::error::{ManagerError, Result};
use crate::select::Pattern;
use crate::set::ExperimentSet;
use crate::setfile::RUN_FILE;

/// Which statuses `xmen run` launches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Only these (default: `registered`).
    Only(Vec<Status>),
    /// Every status.
    All,
}

impl Default for StatusFilter {
    fn default() -> StatusFilter {
        StatusFilter::Only(vec![Status::Registered])
    }
}

impl StatusFilter {
    /// Whether `status` is launched.
    pub fn allows(&self, status: Status) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Only(s) => s.contains(&status),
        }
    }
}

/// One command to launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The experiment folder.
    pub folder: PathBuf,
    /// Its name relative to the set root.
    pub name: String,
    /// The full command: launcher, added sbatch options, run.sh.
    pub argv: Vec<String>,
}

impl Launch {
    /// The command line as printed (`Running: ...`).
    pub fn display(&self) -> String {
        self.argv.join(" ")
    }

    /// A [`Command`] for this launch (the program resolved by [`find_program`]).
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.args(&self.argv[1..]);
        c
    }
}

/// An experiment that was matched but not launched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The folder.
    pub folder: PathBuf,
    /// Why: its status, or why its params.yml could not be read.
    pub reason: String,
    /// Its params.yml could not be read or is incomplete (not merely in another status).
    pub unreadable: bool,
}

/// What `xmen run` will do.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// The launcher's program, resolved on PATH.
    pub program: PathBuf,
    /// The launches, in registration order.
    pub launches: Vec<Launch>,
    /// Matched experiments left alone.
    pub skipped: Vec<Skipped>,
    /// Whether the launcher returns at once (screen, sbatch), so a progress bar makes sense.
    pub detached: bool,
}

fn file_name(token: &str) -> &str {
    token.rsplit('/').next().unwrap_or(token)
}

/// Whether a launcher returns before the run ends (`sbatch`, `screen`, `tmux`).
pub fn is_detached(launcher: &[String]) -> bool {
    launcher.iter().any(|t| file_name(t) == "sbatch")
        || launcher.first().is_some_and(|t| matches!(file_name(t), "screen" | "tmux"))
}

fn has_option(launcher: &[String], long: &str, short: &str) -> bool {
    launcher.iter().any(|t| {
        t == long || t.starts_with(&format!("{long}=")) || t == short || (t.starts_with(short) && !t.starts_with("--"))
    })
}

/// The command for one experiment: the launcher, the sbatch options it lacks, run.sh.
pub fn launch_argv(launcher: &[String], folder: &Path) -> Vec<String> {
    let mut argv = launcher.to_vec();
    if launcher.iter().any(|t| file_name(t) == "sbatch") {
        if !has_option(launcher, "--job-name", "-J") {
            let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            argv.push(format!("--job-name={name}"));
        }
        if !has_option(launcher, "--output", "-o") {
            argv.push(format!("--output={}", crate::slurm::filename_pattern(&folder.join("slurm.out"))));
        }
    }
    argv.push(folder.join(RUN_FILE).display().to_string());
    argv
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Resolve a program like the shell does: a path when it contains `/`, else the first
/// executable of that name on `PATH`.
pub fn find_program(program: &str) -> Result<PathBuf> {
    let err = |reason: String| ManagerError::Program { program: program.to_owned(), reason };
    if program.is_empty() {
        return Err(err("the launcher is empty; give one, e.g. `xmen run '*' bash`".into()));
    }
    if program.contains('/') {
        let p = PathBuf::from(program);
        return if is_executable(&p) {
            Ok(p)
        } else if p.exists() {
            Err(err(format!("{program} is not an executable file; make it executable (`chmod +x`)")))
        } else {
            Err(err(format!("{program} does not exist")))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| is_executable(p)).ok_or_else(|| {
        err(format!(
            "no executable `{program}` on PATH; check the spelling, install it, or give its full path \
                 (launchers are e.g. `bash`, `screen -dm bash`, `sbatch`)"
        ))
    })
}

/// Plan `xmen run PATTERN LAUNCHER...` on the set at `root`.
pub fn plan_runs(root: &Path, pattern: &Pattern, launcher: &[String], filter: &StatusFilter) -> Result<RunPlan> {
    let word = launcher.first().map(String::as_str).unwrap_or_default();
    let program = find_program(word).map_err(|e| {
        // `xmen run * bash` unquoted: the shell made the set's own names the pattern and launcher.
        let here = !word.is_empty() && !word.contains('/') && (root.join(word).exists() || Path::new(word).exists());
        if here {
            ManagerError::Program {
                program: word.to_owned(),
                reason: format!(
                    "`{word}` is a file or folder of the set, not a launcher: the shell expanded an unquoted \
                     pattern into the folder's names; quote the pattern: `xmen run '*' bash`"
                ),
            }
        } else {
            e
        }
    })?;
    crate::heal::heal_set(root, &xmen_record::config_dir())?;
    let set = ExperimentSet::open(root)?;
    // Registration order (the order of experiment.yml), so a sweep runs as it was declared.
    let mut selected = pattern.select_in(&set)?;
    let order: std::collections::HashMap<&Path, usize> =
        set.entries().iter().enumerate().map(|(i, e)| (e.path.as_path(), i)).collect();
    selected.sort_by_key(|e| order.get(e.path.as_path()).copied().unwrap_or(usize::MAX));
    let declared = set.declared();
    let mut launches = Vec::new();
    let mut skipped = Vec::new();
    for e in selected {
        let params = RecordFile::path_in(&e.path);
        match RecordFile::load(&params).and_then(|rec| declared.check(&rec, &params).map(|()| rec)) {
            Ok(rec) if filter.allows(rec.status) => launches.push(Launch {
                folder: e.path.clone(),
                name: set.name_of(&e.path),
                argv: launch_argv(launcher, &e.path),
            }),
            Ok(rec) => skipped.push(Skipped {
                folder: e.path.clone(),
                reason: format!("status {}", rec.status),
                unreadable: false,
            }),
            Err(err) => skipped.push(Skipped { folder: e.path.clone(), reason: err.to_string(), unreadable: true }),
        }
    }
    Ok(RunPlan { program, launches, skipped, detached: is_detached(launcher) })
}

/// The name of a Linux signal number (`SIGSEGV`), `signal N` for others.
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 16] = [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    ];
    usize::try_from(sig)
        .ok()
        .and_then(|i| NAMES.get(i))
        .filter(|n| !n.is_empty())
        .map_or_else(|| format!("signal {sig}"), |n| (*n).to_owned())
}

/// What a death by `sig` means, for the record.
fn signal_reason(sig: i32) -> String {
    let why = match sig {
        9 => "SIGKILL: the out-of-memory killer, a scheduler's hard limit or `kill -9`",
        11 => "SIGSEGV: an invalid memory access",
        7 => "SIGBUS: a bad memory access (often a truncated memory-mapped file)",
        6 => "SIGABRT: an abort (a panic while panicking, a failed assertion in native code)",
        4 | 8 => "an illegal instruction or arithmetic fault",
        _ => "",
    };
    if why.is_empty() {
        format!("killed by {} (signal {sig})", signal_name(sig))
    } else {
        format!("killed by signal {sig} ({why})")
    }
}

/// A run that `xmen run` waited for died by `sig` (issue 12 item 7): what no process can catch
/// itself (a panic while panicking aborts; SIGBUS, SIGSEGV; an OOM kill) is recorded by whoever
/// waits for it. When the record in `folder` still says `running`, and no other live process
/// runs it, it becomes `stopped` for SIGINT/SIGTERM, `timeout` for SIGUSR1, `error` otherwise,
/// with the signal as its `error` message and a note. Returns whether it was written.
pub fn record_signal_death(folder: &Path, sig: i32) -> std::result::Result<bool, RecordError> {
    let path = RecordFile::path_in(folder);
    if !path.is_file() {
        return Ok(false);
    }
    RecordFile::update(&path, WriteOpts::default(), |r| {
        if r.status != Status::Running {
            return Ok(false); // the run recorded its own end
        }
        if RunInfo::of(r).is_some_and(|i| i.process_alive_here() == Some(true)) {
            return Ok(false); // someone else runs it now
        }
        let status = match sig {
            2 | 15 => Status::Stopped,
            10 => Status::Timeout,
            _ => Status::Error,
        };
        let reason = signal_reason(sig);
        r.message(&[("error".to_owned(), Value::Str(reason.clone()))], Keep::Latest, None)?;
        r.note(&format!("xmen run: {reason}"), false);
        r.end_run(status);
        RunEnd {
            status: status.to_string(),
            reason: Some(reason),
            signal: Some(signal_name(sig)),
            ..RunEnd::default()
        }
        .store(r);
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sbatch_gets_a_job_name_and_output_unless_given() {
        let f = Path::new("/s/a=1");
        let table: Vec<(Vec<String>, Vec<String>)> = vec![
            (v(&["bash"]), v(&["bash", "/s/a=1/run.sh"])),
            (v(&["screen", "-dm", "bash"]), v(&["screen", "-dm", "bash", "/s/a=1/run.sh"])),
            (v(&["sbatch"]), v(&["sbatch", "--job-name=a=1", "--output=/s/a=1/slurm.out", "/s/a=1/run.sh"])),
            (
                v(&["sbatch", "--job-name=mine"]),
                v(&["sbatch", "--job-name=mine", "--output=/s/a=1/slurm.out", "/s/a=1/run.sh"]),
            ),
            (
                v(&["sbatch", "--job-name", "mine"]),
                v(&["sbatch", "--job-name", "mine", "--output=/s/a=1/slurm.out", "/s/a=1/run.sh"]),
            ),
            (v(&["sbatch", "-J", "mine"]), v(&["sbatch", "-J", "mine", "--output=/s/a=1/slurm.out", "/s/a=1/run.sh"])),
            (v(&["sbatch", "-Jmine", "-o", "x.out"]), v(&["sbatch", "-Jmine", "-o", "x.out", "/s/a=1/run.sh"])),
            (
                v(&["/usr/bin/sbatch", "--output=o"]),
                v(&["/usr/bin/sbatch", "--output=o", "--job-name=a=1", "/s/a=1/run.sh"]),
            ),
            (v(&["docker", "run", "img"]), v(&["docker", "run", "img", "/s/a=1/run.sh"])),
        ];
        for (launcher, want) in table {
            assert_eq!(launch_argv(&launcher, f), want, "{launcher:?}");
        }
    }

    #[test]
    fn detached_launchers_are_recognised() {
        for (launcher, want) in [
            (v(&["bash"]), false),
            (v(&["screen", "-dm", "bash"]), true),
            (v(&["sbatch"]), true),
            (v(&["srun", "bash"]), false),
            (v(&["/usr/bin/screen", "-dm", "bash"]), true),
        ] {
            assert_eq!(is_detached(&launcher), want, "{launcher:?}");
        }
    }

    #[test]
    fn missing_launchers_are_clear_errors() {
        let msg = find_program("no-such-launcher-xmen").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("no executable `no-such-launcher-xmen` on PATH"), "{msg}");
        let msg = find_program("/no/such/bash").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/no/such/bash does not exist"), "{msg}");
        assert!(find_program("sh").is_ok());
    }
}
