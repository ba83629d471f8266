//! `xmen run PATTERN LAUNCHER...`: launch matching experiments.
//!
//! With a launcher that runs the experiment in the foreground (`bash`, `docker run ...`) each run
//! inherits our terminal, so its output reaches the user unmangled, one run after another. With
//! a detached launcher (`screen -dm`, `sbatch`) many launches return quickly: a progress bar
//! (on a terminal only) counts them and each launcher's own output (`Submitted batch job 42`) is
//! printed above it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

use indicatif::{ProgressBar, ProgressStyle};
use xmen_manager::launch::{plan_runs, StatusFilter};
use xmen_manager::Pattern;
use xmen_record::Status;

use crate::ui::bullet_list;

/// Arguments of `xmen run`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Options go before PATTERN: everything after it is the launcher.\n\nExamples:\n  \
xmen run '*' bash\n  xmen run 'lr=0.01*' screen -dm bash\n  xmen run '*' sbatch --partition=gpu\n  \
xmen run --array=10 '*' sbatch --requeue --signal=USR1@90   one array job, 10 tasks at a time\n  \
xmen run --retry 'lr=*' bash          run failed, stopped, timed-out and lost runs again\n  xmen run 'sizes=\\[3, 4\\]' bash   # escape glob characters, or give the exact name")]
pub struct Args {
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Also launch experiments in STATUS (repeatable; default: only `registered`).
    #[arg(short, long, value_name = "STATUS", value_parser = crate::parse_status)]
    status: Vec<Status>,
    /// Launch matching experiments whatever their status.
    #[arg(long, conflicts_with = "status")]
    all: bool,
    /// Retry failed runs: reset the matching experiments whose status is error, stopped,
    /// timeout or lost (their previous attempt goes to `_attempts`) and run them again.
    #[arg(long, conflicts_with_all = ["status", "all"])]
    retry: bool,
    /// With `sbatch`: submit the whole selection as ONE array job, task i running the i-th
    /// experiment; `--array=K` runs at most K tasks at once (`--array=0-N%K`).
    #[arg(long, value_name = "K", num_args = 0..=1, require_equals = true, default_missing_value = "0")]
    array: Option<u32>,
    /// A unix glob over the set's experiment folder names (quote it).
    #[arg(value_name = "PATTERN")]
    pattern: String,
    /// The command each run.sh is given to (`bash`, `screen -dm bash`, `sbatch ...`, `docker ...`).
    #[arg(value_name = "LAUNCHER", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    launcher: Vec<String>,
}

/// A validated `xmen run` command.
#[derive(Debug)]
pub struct Cmd {
    root: PathBuf,
    pattern: Pattern,
    launcher: Vec<String>,
    filter: StatusFilter,
    /// `--array[=K]`: `Some(0)` without a limit.
    array: Option<u32>,
    /// `--retry`.
    retry: bool,
}

impl Args {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        let filter = if self.all {
            StatusFilter::All
        } else if self.status.is_empty() {
            StatusFilter::default()
        } else {
            let mut s = self.status;
            if !s.contains(&Status::Registered) {
                s.push(Status::Registered);
            }
            StatusFilter::Only(s)
        };
        if self.launcher.first().is_none_or(|l| l.is_empty()) {
            anyhow::bail!("no launcher given: say how to run each experiment, e.g. `xmen run '*' bash`");
        }
        if self.array.is_some() && !xmen_manager::slurm::is_sbatch(&self.launcher) {
            anyhow::bail!(
                "--array submits one SLURM array job, so the launcher must be sbatch: `xmen run --array '{}' sbatch ...`",
                self.pattern
            );
        }
        Ok(Cmd {
            root: self.root,
            pattern: Pattern::new(&self.pattern),
            launcher: self.launcher,
            filter,
            array: self.array,
            retry: self.retry,
        })
    }
}

/// Run a validated `xmen run` command.
pub fn execute(cmd: Cmd) -> anyhow::Result<ExitCode> {
    let sbatch = xmen_manager::slurm::is_sbatch(&cmd.launcher);
    if sbatch {
        xmen_manager::slurm::require(&cmd.launcher[0])?;
    }
    let retried = if cmd.retry {
        // The launcher is checked before any record is reset.
        xmen_manager::launch::find_program(&cmd.launcher[0])?;
        let done = xmen_manager::ops::reset_failed(&cmd.root, &cmd.pattern)?;
        if done.changed.is_empty() {
            anyhow::bail!(
                "nothing to retry: none of the {} experiment(s) matching `{}` is in status {}",
                done.matched,
                cmd.pattern.as_str(),
                xmen_manager::ops::RETRY.map(|s| s.as_str()).join(", ")
            );
        }
        println!("Retrying {} experiment(s) (previous attempts kept under `_attempts`)", done.changed.len());
        Some(done.changed)
    } else {
        None
    };
    let mut plan = plan_runs(&cmd.root, &cmd.pattern, &cmd.launcher, &cmd.filter)?;
    if let Some(retried) = &retried {
        plan.launches.retain(|l| retried.contains(&l.folder));
        plan.skipped.retain(|s| s.unreadable);
    }
    let (broken, other): (Vec<_>, Vec<_>) = plan.skipped.iter().partition(|s| s.unreadable);
    if !other.is_empty() {
        let lines: Vec<String> = other.iter().map(|s| format!("{} ({})", s.folder.display(), s.reason)).collect();
        eprintln!(
            "Skipping {} matching experiment{} not in a status to run (use `--status STATUS` or `--all`):\n{}",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            bullet_list(&lines, 10)
        );
    }
    let broken: Vec<String> = broken.iter().map(|s| s.reason.clone()).collect();
    if plan.launches.is_empty() {
        if !broken.is_empty() {
            anyhow::bail!(
                "nothing was run: {} matching record{} could not be used:\n{}",
                broken.len(),
                if broken.len() == 1 { "" } else { "s" },
                bullet_list(&broken, 10)
            );
        }
        println!("Nothing to run: no experiment matching `{}` is registered.", cmd.pattern.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    if !broken.is_empty() {
        eprintln!(
            "ERROR: skipping {} matching record{} that could not be used (the others run; this command will exit 1):\n{}",
            broken.len(),
            if broken.len() == 1 { "" } else { "s" },
            bullet_list(&broken, 10)
        );
    }
    match cmd.array {
        Some(k) => return crate::submit::submit_array(&plan, &cmd.root, &cmd.launcher, (k > 0).then_some(k)),
        None if sbatch => return crate::submit::submit_each(&plan, &cmd.launcher),
        None => {}
    }
    let total = plan.launches.len();
    let mut failures: Vec<String> = Vec::new();
    if plan.detached && total > 1 {
        let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} launched {msg}") {
            bar.set_style(style);
        }
        // Without a terminal the bar is hidden and so is its println: print plainly then.
        let say = |line: &str| {
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
        };
        for l in &plan.launches {
            say(&format!("Running: {}", l.display()));
            bar.set_message(l.name.clone());
            match l.command(&plan.program).stdin(Stdio::null()).output() {
                Ok(out) => {
                    for line in
                        String::from_utf8_lossy(&out.stdout).lines().chain(String::from_utf8_lossy(&out.stderr).lines())
                    {
                        say(line);
                    }
                    if !out.status.success() {
                        failures.push(format!("{} ({})", l.display(), out.status));
                    }
                }
                Err(e) => failures.push(format!("{} ({e})", l.display())),
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        println!("Launched {} of {total} experiments with `{}`", total - failures.len(), cmd.launcher.join(" "));
    } else {
        // Signals sent to `xmen run` alone reach the run in the foreground (see `forward`).
        let forwarder = crate::forward::Forwarder::start()
            .map_err(|e| anyhow::anyhow!("cannot watch for signals to pass on to the runs: {e}"))?;
        let mut launched = 0;
        for l in &plan.launches {
            if forwarder.signal().is_some() {
                break;
            }
            println!();
            println!("Running: {}", l.display());
            let _ = std::io::stdout().flush();
            launched += 1;
            let mut child = match l.command(&plan.program).spawn() {
                Ok(c) => c,
                Err(e) => {
                    failures.push(format!("{} ({e})", l.display()));
                    continue;
                }
            };
            forwarder.running(child.id(), l.folder.clone());
            let waited = child.wait();
            forwarder.ended();
            match waited {
                Ok(status) if status.success() => {}
                Ok(status) => {
                    if let Some(sig) = died_by(status) {
                        match xmen_manager::launch::record_signal_death(&l.folder, sig) {
                            Ok(true) => eprintln!(
                                "xmen run: {} died by {}; recorded in its params.yml",
                                l.folder.display(),
                                crate::forward::signal_name(sig)
                            ),
                            Ok(false) => {}
                            Err(e) => eprintln!("ERROR: could not record how {} ended: {e}", l.folder.display()),
                        }
                    }
                    failures.push(format!("{} ({status})", l.display()));
                }
                Err(e) => failures.push(format!("{} ({e})", l.display())),
            }
        }
        if let Some(sig) = forwarder.signal() {
            drop(forwarder);
            eprintln!(
                "xmen run: stopped by {}: {launched} of {total} experiment{} launched, the rest not",
                crate::forward::signal_name(sig),
                if total == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(u8::try_from(128 + sig).unwrap_or(u8::MAX)));
        }
    }
    if failures.is_empty() && broken.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else if failures.is_empty() {
        Ok(ExitCode::FAILURE)
    } else {
        eprintln!(
            "ERROR: {} of {total} launches failed (see their output above; each experiment's status is in its params.yml):\n{}",
            failures.len(),
            bullet_list(&failures, 20)
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The signal a launched process died by: directly, or as a shell reports it (128 + N).
fn died_by(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal().or_else(|| status.code().filter(|c| (129..=128 + 64).contains(c)).map(|c| c - 128))
}
