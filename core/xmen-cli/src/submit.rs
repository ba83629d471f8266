//! `xmen run PATTERN sbatch ...` and `xmen run --array[=K] PATTERN sbatch ...` (issue 9).
//!
//! Single jobs are submitted by a few threads at once (each `sbatch` is a round trip to
//! slurmctld), with a progress bar on a terminal; each job id (`sbatch --parsable`) is written
//! to its experiment's params.yml (`_slurm`) as soon as it is known. An array job is one
//! `sbatch` call for the whole selection, its task ids recorded afterwards.

use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use xmen_manager::launch::{Launch, RunPlan};
use xmen_manager::slurm::{self, parse_job_id, record_submission, sbatch_argv};
use xmen_record::runinfo::Submission;

use crate::ui::bullet_list;

/// How many `sbatch` calls are in flight at once.
const WORKERS: usize = 8;

fn bar(total: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} {{msg}}")) {
        bar.set_style(style);
    }
    bar
}

/// Print above the bar, or plainly when the bar is hidden (no terminal).
fn say(bar: &ProgressBar, line: &str) {
    if bar.is_hidden() {
        println!("{line}");
    } else {
        bar.println(line);
    }
}

/// What one submission gave: the job id and the command run, or the failure.
type Outcome = Result<(String, String), String>;

fn submit_one(program: &Path, launch: &Launch) -> Outcome {
    let (argv, _) = sbatch_argv(&launch.argv);
    let out = std::process::Command::new(program)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: cannot run {}: {e}", launch.name, program.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if !out.status.success() {
        return Err(format!("{} ({}): {stderr}", launch.name, out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = parse_job_id(&stdout)
        .ok_or_else(|| format!("{}: sbatch printed no job id (stdout {stdout:?}, stderr {stderr:?})", launch.name))?;
    record_submission(&launch.folder, &Submission::job(&id))
        .map_err(|e| format!("{}: job {id} was submitted but its id could not be recorded: {e}", launch.name))?;
    Ok((id, argv.join(" ")))
}

/// Submit one job per experiment.
pub fn submit_each(plan: &RunPlan, launcher: &[String]) -> anyhow::Result<ExitCode> {
    let total = plan.launches.len();
    if let Some(note) = plan.launches.first().and_then(|l| sbatch_argv(&l.argv).1) {
        println!("{note}");
    }
    let bar = bar(total, "submitted");
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut failures = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..WORKERS.min(total) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(l) = plan.launches.get(i) else { break };
                if tx.send((i, submit_one(&plan.program, l))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, outcome) in rx {
            let l = &plan.launches[i];
            match outcome {
                Ok((id, command)) => say(&bar, &format!("Submitted batch job {id}: {command}")),
                Err(e) => {
                    say(&bar, &format!("FAILED: {e}"));
                    failures.push(e);
                }
            }
            bar.set_message(l.name.clone());
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    println!(
        "Launched {} of {total} experiments with `{}` in {:.1} s",
        total - failures.len(),
        launcher.join(" "),
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "ERROR: {} of {total} submissions failed (each experiment's status is in its params.yml):\n{}",
        failures.len(),
        bullet_list(&failures, 20)
    );
    Ok(ExitCode::FAILURE)
}

/// Submit the whole selection as one array job (`--array=0-N[%K]`).
pub fn submit_array(plan: &RunPlan, root: &Path, launcher: &[String], limit: Option<u32>) -> anyhow::Result<ExitCode> {
    let set = xmen_manager::ExperimentSet::open(root)?;
    let folders: Vec<_> = plan.launches.iter().map(|l| l.folder.clone()).collect();
    let array = slurm::plan_array(set.root(), &folders, launcher, limit)?;
    if let Some(note) = &array.note {
        println!("{note}");
    }
    println!("Running: {}", array.display());
    let started = Instant::now();
    let id = slurm::submit_array(&array).with_context(|| {
        format!("cannot submit the array job for {} experiments (script {})", folders.len(), array.script.display())
    })?;
    let took = started.elapsed();
    println!("Submitted array job {id} with {} tasks in {:.3} s", folders.len(), took.as_secs_f64());

    let bar = bar(folders.len(), "recorded");
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunk = folders.len().div_ceil(WORKERS).max(1);
        let handles: Vec<_> = folders
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                let (id, bar) = (&id, &bar);
                s.spawn(move || {
                    let mut failed = Vec::new();
                    for (j, f) in part.iter().enumerate() {
                        let task = u32::try_from(c * chunk + j).unwrap_or(u32::MAX);
                        if let Err(e) = record_submission(f, &Submission::array_task(id, task)) {
                            failed.push(format!("{}: task {task} of job {id}: {e}", f.display()));
                        }
                        bar.inc(1);
                    }
                    failed
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    bar.finish_and_clear();
    for (task, f) in folders.iter().enumerate() {
        if task < 10 || task + 1 == folders.len() {
            println!("  task {task}: {}", f.display());
        } else if task == 10 {
            println!("  ...");
        }
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "ERROR: array job {id} was submitted, but {} task ids could not be recorded:\n{}",
        failures.len(),
        bullet_list(&failures, 20)
    );
    Ok(ExitCode::FAILURE)
}
