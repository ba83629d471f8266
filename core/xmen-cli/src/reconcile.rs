//! `xmen reconcile`: mark runs whose process is gone as `lost` (issue 9).
//!
//! The linked experiments are selected like `xmen list` selects them; every `running` record
//! is judged by `xmen_manager::reconcile` (pid on this host, else `squeue`, else the
//! heartbeat), and the lost ones are written, each by a locked update of its params.yml.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use xmen_manager::list::{self as core, Selection};
use xmen_manager::reconcile::{self, Report};
use xmen_record::{GlobalConfig, Status};

use crate::ui::bullet_list;

/// Mark runs whose process is gone as `lost`.
///
/// A `running` experiment is alive when its process still runs on this host, or (when it ran
/// elsewhere under SLURM) its job is still in `squeue`, or (otherwise) its heartbeat is
/// recent. Lost ones are written as `lost` with a note saying why; runs whose SLURM job is
/// pending again after a requeue are only reported.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen reconcile                 the experiments under the current folder\n  \
xmen reconcile /data/sweeps    every experiment under a folder\n  \
xmen reconcile sets/a 'sets/b/lr=*'   several folders and globs\n  \
xmen reconcile --pattern /     every linked experiment\n  \
xmen reconcile --dry-run       only say what would change")]
pub struct Args {
    /// Folders (their experiments), experiment folders or globs, any number. Default: the
    /// current folder.
    #[arg(value_name = "PATH_OR_GLOB", conflicts_with = "pattern")]
    targets: Vec<String>,
    /// Which linked experiments: a regex matched at the start of each folder path.
    #[arg(long, value_name = "REGEX")]
    pattern: Option<String>,
    /// Say what would change without writing anything.
    #[arg(long = "dry-run", alias = "dry_run", short_alias = 'n')]
    dry_run: bool,
}

/// A validated `xmen reconcile`.
#[derive(Debug)]
pub struct Cmd {
    selections: Vec<Selection>,
    described: String,
    dry_run: bool,
}

impl Args {
    /// Check the arguments (no disk I/O but the current folder).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let one = |t: &str| match Selection::glob(t, &cwd) {
            Some(sel) => (sel, format!("the glob `{t}`")),
            None => {
                let path = core::select::normalize(&cwd.join(t));
                (Selection::under(&path, &cwd), format!("the folder {}", path.display()))
            }
        };
        let (selections, described): (Vec<Selection>, Vec<String>) = match (self.pattern, self.targets.as_slice()) {
            (Some(p), _) => (vec![Selection::pattern(&p)?], vec![format!("the pattern `{p}`")]),
            (None, []) => (vec![Selection::under(&cwd, &cwd)], vec![format!("the current folder {}", cwd.display())]),
            (None, many) => many.iter().map(|t| one(t)).unzip(),
        };
        Ok(Cmd { selections, described: described.join(", "), dry_run: self.dry_run })
    }
}

/// Run `xmen reconcile`.
pub fn execute(cmd: Cmd, config_dir: &Path) -> anyhow::Result<ExitCode> {
    let config = GlobalConfig::load(config_dir)?;
    let mut seen = std::collections::HashSet::new();
    let folders: Vec<String> = cmd
        .selections
        .iter()
        .flat_map(|sel| core::select(&config.linked, sel))
        .filter(|f| seen.insert(*f))
        .map(str::to_owned)
        .collect();
    if folders.is_empty() {
        println!("No linked experiments in {}.", cmd.described);
        return Ok(ExitCode::SUCCESS);
    }
    let report = reconcile::reconcile(&folders, cmd.dry_run);
    print(&report, cmd.dry_run);
    if report.failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let lines: Vec<String> = report.failures.iter().map(|f| format!("{}: {}", f.folder.display(), f.error)).collect();
    eprintln!("ERROR: {} experiments could not be reconciled:\n{}", lines.len(), bullet_list(&lines, 20));
    Ok(ExitCode::FAILURE)
}

fn print(report: &Report, dry_run: bool) {
    for c in &report.changes {
        let verb = match (c.status, c.written, dry_run) {
            (Status::Lost, true, _) => "running -> lost",
            (Status::Lost, false, true) => "running -> lost (dry run: not written)",
            (Status::Lost, false, false) => "running -> lost (not written)",
            _ => "running, but",
        };
        let what = if c.status == Status::Lost { String::new() } else { format!(" {}:", c.status) };
        println!("{}: {verb}{what} {}", c.folder.display(), c.reason);
    }
    let lost = report.changes.iter().filter(|c| c.status == Status::Lost).count();
    println!(
        "Checked {} experiments: {} running, {lost} lost{}.",
        report.checked,
        report.running,
        if dry_run { " (nothing written)" } else { "" }
    );
}
