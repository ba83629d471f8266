//! `xmen run PATTERN LAUNCHER...`: launch matching experiments.
//!
//! With a launcher that runs the experiment in the foreground (`bash`, `docker run ...`) each run
//! inherits our terminal, so its output reaches the user unmangled, one run after another. With
//! a detached launcher (`screen -dm`, `sbatch`) many launches return quickly: a progress bar
//! (on a terminal only) counts them and each launcher's own output (`Submitted batch job 42`) is
//! printed above it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use xmen_manager::launch::{plan_runs, StatusFilter};
use xmen_manager::Pattern;
use xmen_record::Status;

use crate::progress::{take_lines, Progress, Stream};
use crate::ui::bullet_list;

/// Arguments of `xmen run`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Options go before PATTERN: everything after it is the launcher.\n\nExamples:\n  \
xmen run '*' bash\n  xmen run 'lr=0.01*' screen -dm bash\n  xmen run '*' sbatch --partition=gpu\n  \
xmen run --array=10 '*' sbatch --requeue --signal=USR1@90   one array job, 10 tasks at a time\n  \
xmen run --retry 'lr=*' bash          run failed, stopped, timed-out and lost runs again\n  \
xmen run -j 4 --gpus 0,1,2,3 '*' bash  four at once, each on its own GPU\n  \
xmen run --dry-run '*' bash           what would run, in order\n  xmen run 'sizes=\\[3, 4\\]' bash   # escape glob characters, or give the exact name")]
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
    /// Run N experiments at once (launchers that run in the foreground, like `bash`).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
    /// Give each concurrent run its own GPU: `--gpus 0,1,2,3` sets `CUDA_VISIBLE_DEVICES` of
    /// each run to one free id; `-j` defaults to the number of ids.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    gpus: Vec<String>,
    /// Print what would run (the commands, in order) and change nothing.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// No progress bar on a terminal: only the `[i/N]` lines, and a run started alone writes
    /// straight to the terminal (for a run that must see one, such as a debugger session).
    #[arg(long)]
    plain: bool,
    /// A unix glob over the set's experiment folder names (quote it); with a `/`, a path to
    /// runs from anywhere (`sets/big/lr=0.1*`).
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
    /// `-j`: how many runs at once.
    jobs: usize,
    /// `--gpus`: one id per concurrent slot.
    gpus: Vec<String>,
    /// `--dry-run`.
    dry_run: bool,
    /// `--plain`: no bar.
    plain: bool,
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
        let detached = xmen_manager::launch::is_detached(&self.launcher);
        if let Some(g) = self.gpus.iter().find(|g| g.trim().is_empty()) {
            anyhow::bail!("--gpus has an empty id (`{g}`); give ids separated by commas: --gpus 0,1");
        }
        if detached && (self.jobs.is_some_and(|j| j > 1) || !self.gpus.is_empty()) {
            anyhow::bail!(
                "-j and --gpus run several experiments at once on this machine, with a launcher that runs in \
                 the foreground (`bash`); `{}` returns at once, so the scheduler decides what runs together",
                self.launcher.join(" ")
            );
        }
        let jobs = match (self.jobs, self.gpus.len()) {
            (Some(0), _) => anyhow::bail!("-j must be at least 1"),
            (Some(j), g) if g > 0 && j > g => anyhow::bail!(
                "-j {j} runs {j} experiments at once but --gpus gives {g} id(s): each concurrent run needs its own; \
                 give more ids or a smaller -j"
            ),
            (Some(j), _) => j,
            (None, 0) => 1,
            (None, g) => g,
        };
        // `sets/big/lr=0.1*`: the set and the pattern, from anywhere.
        let (root, pattern) = crate::manage::locate(self.root, &self.pattern);
        Ok(Cmd {
            root,
            pattern: Pattern::new(&pattern),
            launcher: self.launcher,
            filter,
            array: self.array,
            retry: self.retry,
            jobs,
            gpus: self.gpus.into_iter().map(|g| g.trim().to_owned()).collect(),
            dry_run: self.dry_run,
            plain: self.plain,
        })
    }
}

/// Run a validated `xmen run` command.
pub fn execute(cmd: Cmd) -> anyhow::Result<ExitCode> {
    let sbatch = xmen_manager::slurm::is_sbatch(&cmd.launcher);
    if sbatch {
        xmen_manager::slurm::require(&cmd.launcher[0])?;
    }
    if cmd.dry_run {
        return dry_run(&cmd);
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
    let started = Instant::now();
    let mut failures: Vec<String>;
    if plan.detached && total > 1 {
        failures = Vec::new();
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
        for (i, l) in plan.launches.iter().enumerate() {
            say(&format!("[{}/{total}] Running: {}", i + 1, l.display()));
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
        println!(
            "Launched {} of {total} experiments with `{}` in {}",
            total - failures.len(),
            cmd.launcher.join(" "),
            xmen_core::pyfmt::timedelta(started.elapsed())
        );
    } else {
        let outcome = run_foreground(&plan, &cmd)?;
        failures = outcome.failures;
        if let Some(sig) = outcome.signal {
            eprintln!(
                "xmen run: stopped by {}: {} of {total} experiment{} launched, the rest not",
                crate::forward::signal_name(sig),
                outcome.launched,
                if total == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(u8::try_from(128 + sig).unwrap_or(u8::MAX)));
        }
        println!(
            "\nSummary: {} of {total} run(s) finished, {} failed; wall time {}",
            total - failures.len(),
            failures.len(),
            xmen_core::pyfmt::timedelta(started.elapsed())
        );
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

/// What the foreground runs came to.
struct Foreground {
    /// `path (why)` of each run that failed.
    failures: Vec<String>,
    /// How many were launched.
    launched: usize,
    /// The signal that stopped `xmen run`, if one did.
    signal: Option<i32>,
}

/// One run in the foreground.
struct Running<'p> {
    child: std::process::Child,
    launch: &'p xmen_manager::launch::Launch,
    /// Its `i` in `[i/N]`, and its label with `-j N`.
    number: usize,
    /// Its `--gpus` slot.
    gpu: Option<usize>,
}

/// A piece of a run's piped output, or (`data: None`) the end of one of its streams.
struct Piece {
    run: usize,
    stream: Stream,
    data: Option<Vec<u8>>,
}

/// Read one of a run's output streams on a thread of its own, sending what arrives.
fn read_output(mut from: impl std::io::Read + Send + 'static, run: usize, stream: Stream, tx: &Sender<Piece>) {
    let tx = tx.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.send(Piece { run, stream, data: Some(buf[..n].to_vec()) }).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(Piece { run, stream, data: None });
    });
}

/// The printing side of the foreground runs: the progress, and the runs' piped output.
struct Output {
    progress: Progress,
    /// `-j N`: each line of a run's output is prefixed with its label.
    labels: bool,
    /// Output of a run not yet printed because its line is not complete (with labels).
    pending: HashMap<(usize, Stream), Vec<u8>>,
    /// How many output streams of each run are still open.
    open: HashMap<usize, usize>,
}

impl Output {
    fn take(&mut self, piece: Piece) {
        let key = (piece.run, piece.stream);
        match piece.data {
            Some(bytes) if self.labels => {
                let buf = self.pending.entry(key).or_default();
                buf.extend_from_slice(&bytes);
                for line in take_lines(buf, false) {
                    self.progress.line(piece.stream, &format!("[{}] {line}", piece.run));
                }
            }
            Some(bytes) => self.progress.forward(piece.stream, &bytes),
            None => {
                if let Some(mut buf) = self.pending.remove(&key) {
                    for line in take_lines(&mut buf, true) {
                        self.progress.line(piece.stream, &format!("[{}] {line}", piece.run));
                    }
                }
                if let Some(n) = self.open.get_mut(&piece.run) {
                    *n = n.saturating_sub(1);
                }
            }
        }
    }
}

/// How long the output of a run that ended may still arrive before the next line is printed
/// (a process the run left behind may hold its pipes open; its output is still printed later).
const DRAIN: Duration = Duration::from_secs(2);

/// Run the plan with a foreground launcher, `cmd.jobs` at a time, each with its own GPU when
/// `--gpus` was given; print `[i/N]` before each run, with a bar below on a terminal (see
/// [`crate::progress`]).
fn run_foreground(plan: &xmen_manager::launch::RunPlan, cmd: &Cmd) -> anyhow::Result<Foreground> {
    // Signals sent to `xmen run` alone reach the runs in the foreground (see `forward`).
    let forwarder = crate::forward::Forwarder::start()
        .map_err(|e| anyhow::anyhow!("cannot watch for signals to pass on to the runs: {e}"))?;
    let total = plan.launches.len();
    let mut out = Output {
        progress: Progress::new(total, !cmd.plain),
        labels: cmd.jobs > 1,
        pending: HashMap::new(),
        open: HashMap::new(),
    };
    // Without a bar and one run at a time, a run inherits our stdout and stderr.
    let piped = out.labels || out.progress.live();
    let (tx, rx) = std::sync::mpsc::channel::<Piece>();
    let mut failures = Vec::new();
    let mut running: Vec<Running<'_>> = Vec::new();
    let mut gpu_free = vec![true; cmd.gpus.len()];
    let mut next = 0;
    let mut idle = Duration::from_millis(1);
    loop {
        while running.len() < cmd.jobs && next < total && forwarder.signal().is_none() {
            let l = &plan.launches[next];
            next += 1;
            let gpu = gpu_free.iter().position(|f| *f);
            let mut command = l.command(&plan.program);
            let mut shown = format!("[{next}/{total}] Running: {}", l.display());
            if let Some(g) = gpu {
                gpu_free[g] = false;
                command.env("CUDA_VISIBLE_DEVICES", &cmd.gpus[g]);
                shown.push_str(&format!(" (CUDA_VISIBLE_DEVICES={})", cmd.gpus[g]));
            }
            out.progress.line(Stream::Out, "");
            out.progress.line(Stream::Out, &shown);
            if piped {
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
                // A pipe makes Python buffer its prints in blocks; keep them line by line.
                if std::env::var_os("PYTHONUNBUFFERED").is_none() {
                    command.env("PYTHONUNBUFFERED", "1");
                }
            }
            match command.spawn() {
                Ok(mut child) => {
                    forwarder.running(child.id(), l.folder.clone());
                    if let Some(o) = child.stdout.take() {
                        read_output(o, next, Stream::Out, &tx);
                        *out.open.entry(next).or_default() += 1;
                    }
                    if let Some(e) = child.stderr.take() {
                        read_output(e, next, Stream::Err, &tx);
                        *out.open.entry(next).or_default() += 1;
                    }
                    running.push(Running { child, launch: l, number: next, gpu });
                }
                Err(e) => {
                    failures.push(format!("{} ({e})", l.display()));
                    out.progress.finished(true);
                    if let Some(g) = gpu {
                        gpu_free[g] = true;
                    }
                }
            }
        }
        if running.is_empty() {
            break;
        }
        // One run whose output is not ours to print: wait for it; otherwise poll the runs and
        // print their output meanwhile.
        let done = if running.len() == 1 && !piped {
            let r = &mut running[0];
            Some((0, r.child.wait()))
        } else {
            let mut found = None;
            for (i, r) in running.iter_mut().enumerate() {
                match r.child.try_wait() {
                    Ok(Some(status)) => {
                        found = Some((i, Ok(status)));
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        found = Some((i, Err(e)));
                        break;
                    }
                }
            }
            // Poll often right after a launch (short runs), less and less while all run long.
            match found {
                None => {
                    if let Ok(piece) = rx.recv_timeout(idle) {
                        out.take(piece);
                        while let Ok(piece) = rx.try_recv() {
                            out.take(piece);
                        }
                    }
                    out.progress.tick();
                    idle = (idle * 2).min(Duration::from_millis(50));
                }
                Some(_) => idle = Duration::from_millis(1),
            }
            found
        };
        let Some((i, waited)) = done else { continue };
        let r = running.swap_remove(i);
        forwarder.ended(r.child.id());
        if let Some(g) = r.gpu {
            gpu_free[g] = true;
        }
        // Its last output, before anything else is said about it.
        let deadline = Instant::now() + DRAIN;
        while out.open.get(&r.number).is_some_and(|n| *n > 0) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
            match rx.recv_timeout(left) {
                Ok(piece) => out.take(piece),
                Err(_) => break,
            }
        }
        out.open.remove(&r.number);
        let l = r.launch;
        match waited {
            Ok(status) if status.success() => out.progress.finished(false),
            Ok(status) => {
                if let Some(sig) = died_by(status) {
                    match xmen_manager::launch::record_signal_death(&l.folder, sig) {
                        Ok(true) => out.progress.line(
                            Stream::Err,
                            &format!(
                                "xmen run: {} died by {}; recorded in its params.yml",
                                l.folder.display(),
                                crate::forward::signal_name(sig)
                            ),
                        ),
                        Ok(false) => {}
                        Err(e) => out.progress.line(
                            Stream::Err,
                            &format!("ERROR: could not record how {} ended: {e}", l.folder.display()),
                        ),
                    }
                }
                failures.push(format!("{} ({status})", l.folder.display()));
                out.progress.finished(true);
            }
            Err(e) => {
                failures.push(format!("{} ({e})", l.folder.display()));
                out.progress.finished(true);
            }
        }
    }
    // Whatever is still buffered (output that arrived after its run's drain ended).
    while let Ok(piece) = rx.try_recv() {
        out.take(piece);
    }
    out.progress.clear();
    let signal = forwarder.signal();
    drop(forwarder);
    Ok(Foreground { failures, launched: next, signal })
}

/// `--dry-run`: what would run, in order, changing nothing.
fn dry_run(cmd: &Cmd) -> anyhow::Result<ExitCode> {
    let filter = if cmd.retry { StatusFilter::Only(xmen_manager::ops::RETRY.to_vec()) } else { cmd.filter.clone() };
    let plan = plan_runs(&cmd.root, &cmd.pattern, &cmd.launcher, &filter)?;
    let total = plan.launches.len();
    if total == 0 {
        println!("Nothing would run: no experiment matching `{}` is in a status to run.", cmd.pattern.as_str());
        return Ok(ExitCode::FAILURE);
    }
    let how = if cmd.jobs > 1 { format!(", {} at a time", cmd.jobs) } else { String::new() };
    let what = if cmd.retry { "be reset and run again" } else { "run" };
    println!("Dry run: {total} experiment(s) would {what}{how} (nothing is changed):");
    for (i, l) in plan.launches.iter().enumerate() {
        let gpu = if cmd.gpus.is_empty() {
            String::new()
        } else {
            // The slots in turn (which is free first depends on how long each run takes).
            format!("CUDA_VISIBLE_DEVICES={} ", cmd.gpus[i % cmd.jobs.min(cmd.gpus.len())])
        };
        println!("[{}/{total}] {gpu}{}", i + 1, l.display());
    }
    Ok(ExitCode::SUCCESS)
}
