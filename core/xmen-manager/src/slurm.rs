//! SLURM for `xmen run` and `xmen reconcile` (issue 9): job ids from `sbatch --parsable`, one
//! array job for a whole selection, and a snapshot of the queue.
//!
//! **Key design choice: SLURM is the engine; xmen only writes scripts and reads answers.** A
//! single job is the experiment's run.sh given to `sbatch`; an array job is one generated
//! script whose task `i` execs the `i`-th experiment's run.sh, so every task runs exactly the
//! command a single job would. Job ids are recorded in each params.yml (`_slurm`, see
//! [`xmen_record::runinfo::Submission`]) under the record's lock. Liveness questions go to
//! `squeue`, once per command, never per experiment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use xmen_core::pyfmt;
use xmen_record::runinfo::Submission;
use xmen_record::{RecordError, RecordFile, WriteOpts};

use crate::launch::find_program;
use crate::scripts::shell_quote;
use crate::setfile::RUN_FILE;

/// The folder inside a set root where array scripts (and their own output) are written.
pub const ARRAY_DIR: &str = ".xmen-slurm";

/// What went wrong talking to SLURM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlurmError {
    /// A SLURM command is not installed.
    #[error(
        "`{program}` is not on PATH: SLURM is not installed here. Run xmen on a SLURM login node, \
         install SLURM (`apt-get install slurm-wlm`), or start the local test cluster with \
         `eval \"$(bash scripts/slurm/start.sh)\"`"
    )]
    NotInstalled {
        /// `sbatch`, `squeue`, ...
        program: String,
    },
    /// A SLURM command ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
    /// A SLURM command could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// `sbatch --parsable` printed no job id.
    #[error("`{command}` printed no job id (expected `ID` or `ID;cluster`, got {stdout:?})")]
    NoJobId {
        /// The command line.
        command: String,
        /// What it printed.
        stdout: String,
    },
    /// The sbatch options conflict with xmen's own flags.
    #[error("{0}")]
    Options(String),
    /// An array script could not be written.
    #[error("cannot write the array script {}: {source}", path.display())]
    Write {
        /// The script.
        path: PathBuf,
        /// Why.
        #[source]
        source: RecordError,
    },
}

fn file_name(token: &str) -> &str {
    token.rsplit('/').next().unwrap_or(token)
}

/// Whether a launcher is `sbatch` (by any path).
pub fn is_sbatch(launcher: &[String]) -> bool {
    launcher.first().is_some_and(|t| file_name(t) == "sbatch")
}

/// Find `program` (a SLURM command) on PATH, with an error that says SLURM is missing.
pub fn require(program: &str) -> Result<PathBuf, SlurmError> {
    find_program(program).map_err(|_| SlurmError::NotInstalled { program: program.to_owned() })
}

/// Whether the sbatch options already hold an option (`--opt`, `--opt=x`, or the short `-x`).
fn has_option(args: &[String], long: &str, short: Option<&str>) -> bool {
    args.iter().any(|t| {
        t == long
            || t.starts_with(&format!("{long}="))
            || short.is_some_and(|s| t == s || (t.starts_with(s) && !t.starts_with("--")))
    })
}

/// `sbatch` with `--parsable` added after the program (unless given), so its stdout is the
/// job id.
pub fn with_parsable(argv: &[String]) -> Vec<String> {
    let mut out = argv.to_vec();
    if !argv.is_empty() && !has_option(&argv[1..], "--parsable", None) {
        out.insert(1, "--parsable".to_owned());
    }
    out
}

/// `--signal=[R:]SIG[@T]` with `B:` added: xmen's jobs run the experiment as the batch
/// script itself (run.sh `exec`s it), and without `B:` SLURM signals only job steps, so the
/// run would never see the signal. `None` when nothing changes.
fn batch_signal(value: &str) -> Option<String> {
    let (flags, rest) = match value.split_once(':') {
        Some((f, r)) if !f.is_empty() && f.chars().all(|c| c == 'R' || c == 'B') => (f, r),
        _ => ("", value),
    };
    (!flags.contains('B')).then(|| format!("{flags}B:{rest}"))
}

/// The sbatch command xmen runs for `argv` (`sbatch [options] SCRIPT`): `--parsable` added,
/// `--open-mode=append` unless an open mode is given (a requeued job's restart then adds to
/// its slurm.out instead of wiping it), and `--signal` given to the batch script: `B:` is
/// added, because xmen runs the experiment as the batch script itself and SLURM would
/// otherwise signal job steps only. Also returns a note for the user when the signal option
/// was changed.
pub fn sbatch_argv(argv: &[String]) -> (Vec<String>, Option<String>) {
    let mut out = with_parsable(argv);
    if out.len() > 1 && !has_option(&out[1..], "--open-mode", None) {
        out.insert(2, "--open-mode=append".to_owned());
    }
    let mut note = None;
    let mut i = 1;
    while i < out.len() {
        let (value, joined) = match out[i].strip_prefix("--signal=") {
            Some(v) => (v.to_owned(), true),
            None if out[i] == "--signal" && i + 1 < out.len() => (out[i + 1].clone(), false),
            None => {
                i += 1;
                continue;
            }
        };
        if let Some(fixed) = batch_signal(&value) {
            note = Some(format!(
                "note: --signal={value} would signal job steps only, and xmen runs the experiment as the batch \
                 script: submitting with --signal={fixed}"
            ));
            if joined {
                out[i] = format!("--signal={fixed}");
            } else {
                out[i + 1] = fixed;
            }
        }
        i += if joined { 1 } else { 2 };
    }
    (out, note)
}

/// The job id in `sbatch --parsable` output (`42` or `42;cluster`), or in the plain
/// `Submitted batch job 42` of an sbatch wrapper that ignores `--parsable`.
pub fn parse_job_id(stdout: &str) -> Option<String> {
    let line = stdout.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let line = line.strip_prefix("Submitted batch job ").unwrap_or(line);
    let id = line.split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit() || c == '_')).then(|| id.to_owned())
}

/// Record a submitted job in an experiment's params.yml (`_slurm`), under the record's lock.
pub fn record_submission(folder: &Path, submission: &Submission) -> Result<(), RecordError> {
    RecordFile::update(&RecordFile::path_in(folder), WriteOpts::default(), |r| {
        submission.store(r);
        Ok::<_, RecordError>(())
    })
}

/// One array job for a whole selection.
#[derive(Clone, Debug)]
pub struct ArrayPlan {
    /// The generated script.
    pub script: PathBuf,
    /// The experiment folders, task `i` running `folders[i]`.
    pub folders: Vec<PathBuf>,
    /// The full sbatch command.
    pub argv: Vec<String>,
    /// A note for the user about an option xmen changed (see [`sbatch_argv`]).
    pub note: Option<String>,
}

impl ArrayPlan {
    /// The command line as printed.
    pub fn display(&self) -> String {
        self.argv.join(" ")
    }
}

/// The `#SBATCH` lines of a run.sh (the set's header), so an array job asks for what each
/// single job would.
fn sbatch_lines(run_sh: &Path) -> Vec<String> {
    std::fs::read_to_string(run_sh)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.trim_start().starts_with("#SBATCH"))
        .map(str::to_owned)
        .collect()
}

/// The text of an array script: task `i` appends its output to `{folders[i]}/slurm.out` and
/// execs `{folders[i]}/run.sh`.
pub fn array_script(folders: &[PathBuf], header: &[String]) -> String {
    let n = folders.len();
    let mut s = String::with_capacity(64 + n * 80);
    s.push_str("#!/bin/bash\n");
    for h in header {
        s.push_str(h);
        s.push('\n');
    }
    s.push_str(&format!(
        "# Written by `xmen run --array` at {}: array task i runs experiment i below.\n",
        pyfmt::now_stamp()
    ));
    s.push_str("case \"${SLURM_ARRAY_TASK_ID:-}\" in\n");
    for (i, f) in folders.iter().enumerate() {
        s.push_str(&format!("{i}) dir={} ;;\n", shell_quote(&f.display().to_string())));
    }
    s.push_str(&format!(
        "*) echo \"xmen: array task '${{SLURM_ARRAY_TASK_ID:-}}' has no experiment: this script has tasks 0-{}; \
         submit it with --array=0-{}\" >&2; exit 2 ;;\nesac\n",
        n.saturating_sub(1),
        n.saturating_sub(1)
    ));
    s.push_str(&format!("exec >>\"$dir/slurm.out\" 2>&1\nexec /bin/bash \"$dir/{RUN_FILE}\"\n"));
    s
}

/// Plan one array job for `folders` (sorted as launched): write the script into
/// `{set_root}/.xmen-slurm/` and build `sbatch [options] --parsable --array=0-N[%K]
/// [--job-name=SET] [--output=...] SCRIPT`.
///
/// The user's sbatch options are kept; giving `--array` among them is an error (xmen's own
/// `--array` flag maps tasks to experiments).
pub fn plan_array(
    set_root: &Path,
    folders: &[PathBuf],
    launcher: &[String],
    limit: Option<u32>,
) -> Result<ArrayPlan, SlurmError> {
    let options = launcher.get(1..).unwrap_or_default();
    if has_option(options, "--array", Some("-a")) {
        return Err(SlurmError::Options(
            "give the array with xmen's own flag, not as an sbatch option: `xmen run --array[=K] PATTERN sbatch ...` \
             makes one task per experiment"
                .to_owned(),
        ));
    }
    let dir = set_root.join(ARRAY_DIR);
    let stamp = pyfmt::now_stamp();
    let script = dir.join(format!("array-{stamp}.sh"));
    let header = folders.first().map(|f| sbatch_lines(&f.join(RUN_FILE))).unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(|e| SlurmError::Write {
        path: script.clone(),
        source: RecordError::io("create the folder", &dir, e),
    })?;
    xmen_record::write_script(&script, &array_script(folders, &header), WriteOpts::default())
        .map_err(|source| SlurmError::Write { path: script.clone(), source })?;

    let mut argv = launcher.to_vec();
    let last = folders.len().saturating_sub(1);
    argv.push(match limit {
        Some(k) => format!("--array=0-{last}%{k}"),
        None => format!("--array=0-{last}"),
    });
    if !has_option(options, "--job-name", Some("-J")) {
        let name = set_root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "xmen".into());
        argv.push(format!("--job-name={name}"));
    }
    if !has_option(options, "--output", Some("-o")) {
        // Each task appends to its experiment's slurm.out; this file only sees errors from
        // before that redirection.
        argv.push(format!("--output={}", filename_pattern(&dir.join(format!("array-{stamp}.out")))));
    }
    argv.push(script.display().to_string());
    let (argv, note) = sbatch_argv(&argv);
    Ok(ArrayPlan { script, folders: folders.to_vec(), argv, note })
}

/// A path as sbatch's `--output`/`--error` option must spell it: sbatch expands `%j`, `%x`,
/// ... in file names, so a literal `%` is written `%%`. A name holding a backslash is taken
/// literally by sbatch (no replacement at all), so it is left as it is.
pub fn filename_pattern(path: &Path) -> String {
    let text = path.display().to_string();
    if text.contains('\\') {
        text
    } else {
        text.replace('%', "%%")
    }
}

/// Run a SLURM command and return its stdout.
pub fn run(program: &Path, args: &[String]) -> Result<String, SlurmError> {
    let command = || format!("{} {}", program.display(), args.join(" "));
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| SlurmError::Spawn { command: command(), source })?;
    if !out.status.success() {
        return Err(SlurmError::Failed {
            command: command(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Submit an array plan; returns the array job id.
pub fn submit_array(plan: &ArrayPlan) -> Result<String, SlurmError> {
    let program = require(plan.argv.first().map(String::as_str).unwrap_or("sbatch"))?;
    let stdout = run(&program, &plan.argv[1..])?;
    parse_job_id(&stdout).ok_or_else(|| SlurmError::NoJobId { command: plan.display(), stdout })
}

/// The jobs SLURM knows now (`squeue`): job id to state (`RUNNING`, `PENDING`, ...).
#[derive(Clone, Debug, Default)]
pub struct Queue {
    jobs: HashMap<String, String>,
}

impl Queue {
    /// Ask `squeue` for every job of every user and partition.
    pub fn snapshot() -> Result<Queue, SlurmError> {
        let squeue = require("squeue")?;
        let args: Vec<String> = ["--noheader", "--all", "--format=%A|%i|%T"].map(String::from).to_vec();
        Ok(Queue::parse(&run(&squeue, &args)?))
    }

    /// Parse `squeue --format=%A|%i|%T` lines: each job is known by its own id (`%A`) and by
    /// its array form (`%i`, `41_3`).
    pub fn parse(text: &str) -> Queue {
        let mut jobs = HashMap::new();
        for line in text.lines() {
            let mut parts = line.trim().split('|');
            let (Some(id), Some(alias), Some(state)) = (parts.next(), parts.next(), parts.next()) else { continue };
            jobs.insert(id.trim().to_owned(), state.trim().to_owned());
            jobs.insert(alias.trim().to_owned(), state.trim().to_owned());
        }
        Queue { jobs }
    }

    /// The state of a job (`None` once it has left the queue).
    pub fn state(&self, job_id: &str) -> Option<&str> {
        self.jobs.get(job_id).map(String::as_str)
    }

    /// How many jobs are queued (any state).
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

/// How a queue state bears on a run's liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobPhase {
    /// Running (or about to, or being cleaned up): its process may be alive.
    Active,
    /// Waiting to start (again, after a requeue).
    Pending,
    /// Over: whatever ran is gone.
    Ended,
}

/// Classify a squeue/scontrol state name.
pub fn phase_of(state: &str) -> JobPhase {
    let s = state.split_whitespace().next().unwrap_or_default().trim_end_matches('+');
    match s {
        "RUNNING" | "COMPLETING" | "CONFIGURING" | "SUSPENDED" | "STOPPED" | "RESIZING" | "SIGNALING" | "STAGE_OUT" => {
            JobPhase::Active
        }
        "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESV_DEL_HOLD" | "SPECIAL_EXIT" => JobPhase::Pending,
        _ => JobPhase::Ended,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn percent_signs_in_output_paths_are_escaped_for_sbatch() {
        assert_eq!(filename_pattern(Path::new("/s/100%/a=1/slurm.out")), "/s/100%%/a=1/slurm.out");
        assert_eq!(filename_pattern(Path::new("/s/a\\b%j")), "/s/a\\b%j");
    }

    #[test]
    fn job_ids_are_read_from_parsable_output() {
        for (out, want) in [
            ("42\n", Some("42")),
            ("42;cluster\n", Some("42")),
            ("sbatch: warning: x\n43\n", Some("43")),
            ("Submitted batch job 42\n", Some("42")),
            ("Submitted batch job\n", None),
            ("", None),
        ] {
            assert_eq!(parse_job_id(out).as_deref(), want, "{out:?}");
        }
    }

    #[test]
    fn signals_go_to_the_batch_script() {
        for (given, want, noted) in [
            (
                v(&["sbatch", "--signal=USR1@90", "x.sh"]),
                v(&["sbatch", "--parsable", "--open-mode=append", "--signal=B:USR1@90", "x.sh"]),
                true,
            ),
            (
                v(&["sbatch", "--signal", "R:10@5", "--open-mode=truncate", "x"]),
                v(&["sbatch", "--parsable", "--signal", "RB:10@5", "--open-mode=truncate", "x"]),
                true,
            ),
            (
                v(&["sbatch", "--signal=B:USR1@90", "x"]),
                v(&["sbatch", "--parsable", "--open-mode=append", "--signal=B:USR1@90", "x"]),
                false,
            ),
            (
                v(&["sbatch", "-p", "gpu", "x"]),
                v(&["sbatch", "--parsable", "--open-mode=append", "-p", "gpu", "x"]),
                false,
            ),
        ] {
            let (argv, note) = sbatch_argv(&given);
            assert_eq!((argv, note.is_some()), (want, noted), "{given:?}");
        }
    }

    #[test]
    fn parsable_is_added_once() {
        assert_eq!(
            with_parsable(&v(&["sbatch", "-p", "gpu", "x.sh"])),
            v(&["sbatch", "--parsable", "-p", "gpu", "x.sh"])
        );
        assert_eq!(with_parsable(&v(&["sbatch", "--parsable", "x.sh"])), v(&["sbatch", "--parsable", "x.sh"]));
    }

    #[test]
    fn array_plans_map_tasks_to_experiments_and_keep_user_options() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let folders: Vec<PathBuf> = ["a=1", "a=2", "b='x y'"].iter().map(|n| t.path().join(n)).collect();
        let plan = plan_array(t.path(), &folders, &v(&["sbatch", "-p", "debug", "--requeue"]), Some(2))
            .unwrap_or_else(|e| panic!("{e}"));
        let name = t.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        assert_eq!(
            &plan.argv[..7],
            &v(&["sbatch", "--parsable", "--open-mode=append", "-p", "debug", "--requeue", "--array=0-2%2"])
        );
        assert!(plan.note.is_none());
        assert!(plan.argv.contains(&format!("--job-name={name}")), "{:?}", plan.argv);
        assert_eq!(plan.argv.last(), Some(&plan.script.display().to_string()));
        let text = std::fs::read_to_string(&plan.script).unwrap_or_default();
        assert!(text.contains(&format!("0) dir={} ;;", folders[0].display())), "{text}");
        assert!(text.contains("2) dir='") && text.contains("b='\\''x y'\\'''"), "{text}");
        assert!(text.ends_with("exec >>\"$dir/slurm.out\" 2>&1\nexec /bin/bash \"$dir/run.sh\"\n"), "{text}");

        let err = plan_array(t.path(), &folders, &v(&["sbatch", "--array=0-3"]), None).err();
        assert!(err.is_some_and(|e| e.to_string().contains("xmen's own flag")));
        let plan = plan_array(t.path(), &folders, &v(&["sbatch", "-J", "mine", "-o", "o.txt"]), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!plan.argv.iter().any(|a| a.starts_with("--job-name") || a.starts_with("--output")), "{:?}", plan.argv);
    }

    #[test]
    fn array_scripts_run_the_right_experiment_and_reject_unknown_tasks() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut folders = Vec::new();
        for n in ["x", "y z"] {
            let d = t.path().join(n);
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(d.join("run.sh"), format!("#!/bin/bash\n#SBATCH --time=5\necho ran {n}"))
                .unwrap_or_default();
            folders.push(d);
        }
        let header = sbatch_lines(&folders[0].join("run.sh"));
        assert_eq!(header, ["#SBATCH --time=5"]);
        let script = t.path().join("array.sh");
        std::fs::write(&script, array_script(&folders, &header)).unwrap_or_default();
        for (task, ok) in [("1", true), ("7", false)] {
            let out = Command::new("bash")
                .arg(&script)
                .env("SLURM_ARRAY_TASK_ID", task)
                .output()
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(out.status.success(), ok, "{task}");
            if !ok {
                assert!(String::from_utf8_lossy(&out.stderr).contains("has no experiment"));
            }
        }
        assert_eq!(std::fs::read_to_string(folders[1].join("slurm.out")).unwrap_or_default(), "ran y z\n");
        assert!(!folders[0].join("slurm.out").exists());
    }

    #[test]
    fn queue_states_are_read_and_classified() {
        let q = Queue::parse("41|41_[3-9%2]|PENDING\n44|41_1|RUNNING\n45|45|COMPLETING\nbad line\n");
        assert_eq!(q.state("44"), Some("RUNNING"));
        assert_eq!(q.state("41_1"), Some("RUNNING"));
        assert_eq!(q.state("41"), Some("PENDING"));
        assert_eq!(q.state("46"), None);
        for (s, p) in [
            ("RUNNING", JobPhase::Active),
            ("COMPLETING", JobPhase::Active),
            ("PENDING", JobPhase::Pending),
            ("REQUEUED", JobPhase::Pending),
            ("CANCELLED+", JobPhase::Ended),
            ("CANCELLED by 0", JobPhase::Ended),
            ("COMPLETED", JobPhase::Ended),
            ("NODE_FAIL", JobPhase::Ended),
        ] {
            assert_eq!(phase_of(s), p, "{s}");
        }
    }
}
