//! `xmen note`, `reset`, `unlink`, `relink`, `move`, `clean` and `rm`.

use std::path::PathBuf;
use std::process::ExitCode;

use xmen_manager::{ops, relink, Pattern};
use xmen_record::{GlobalConfig, Status};

use crate::ui::{bullet_list, confirm};
use crate::Ctx;

/// Arguments of `xmen note`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  xmen note 'lr=0.01*' \"diverged after epoch 3\"\n  xmen note -d 'lr=0.01*' \"diverged after epoch 3\""
)]
pub struct NoteArgs {
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Remove the note (an exact match) instead of adding it.
    #[arg(long, short_alias = 'd')]
    delete: bool,
    /// A unix glob over the set's experiment folder names; with a `/`, a path to runs from
    /// anywhere (`sets/big/lr=0.1*`).
    #[arg(value_name = "PATTERN")]
    pattern: String,
    /// The note.
    #[arg(value_name = "MESSAGE")]
    message: String,
}

/// Arguments of `xmen reset`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Use it to run finished, failed or timed-out experiments again:\n  xmen reset 'lr=*' && xmen run 'lr=*' bash"
)]
pub struct ResetArgs {
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// The new status, one of: default, registered, running, error, debug, stopped, timeout,
    /// finished, detached, requeue, lost.
    #[arg(short, long, value_name = "STATUS", default_value = "registered", value_parser = crate::parse_status)]
    status: Status,
    /// A unix glob over the set's experiment folder names; with a `/`, a path to runs from
    /// anywhere (`sets/big/lr=0.1*`).
    #[arg(value_name = "PATTERN")]
    pattern: String,
}

/// Arguments of `xmen unlink`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen unlink 'lr=0.1*'          stop managing these runs (their folders stay)\n  \
xmen unlink -r sweep '*'        every run of the set at sweep/\n  xmen unlink 'lr=0.1*' && xmen clean   then delete their folders")]
pub struct UnlinkArgs {
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// A unix glob over the set's experiment folder names; with a `/`, a path to runs from
    /// anywhere (`sets/big/lr=0.1*`).
    #[arg(value_name = "PATTERN")]
    pattern: String,
}

/// Arguments of `xmen relink`.
#[derive(clap::Args, Debug)]
#[command(after_help = "After moving a set:   mv set set-2 && xmen relink -r set-2\n\
After moving a folder of sets:   mv folder folder-2 && xmen relink -r folder-2 --recursive\n\
Adopt unmanaged experiment folders:   xmen relink -e 'lr=*'")]
pub struct RelinkArgs {
    /// The set root (with `--recursive`, any folder above sets).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Replant every set and experiment folder below the root.
    #[arg(long, conflicts_with = "experiments")]
    recursive: bool,
    /// Adopt the unmanaged experiment folders matching this glob whose parameters fit the defaults.
    #[arg(short, long, value_name = "PATTERN")]
    experiments: Option<String>,
}

/// Arguments of `xmen move`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen move -r sweep sweeps/2026-12   rename the set and relink its runs\n  \
xmen move /data/old /scratch/new      across file systems too")]
pub struct MoveArgs {
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Where the set goes (must not exist).
    #[arg(value_name = "DEST")]
    dest: PathBuf,
    /// `xmen move SRC DEST`, as the original's Python API took them: DEST, the first being
    /// the set.
    #[arg(value_name = "DEST2", hide = true)]
    then: Option<PathBuf>,
}

/// Arguments of `xmen clean`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  xmen clean                 ask, then delete the unmanaged run folders under the current set\n  \
xmen clean -r sweep -y      without asking"
)]
pub struct CleanArgs {
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Delete without asking.
    #[arg(short, long)]
    yes: bool,
    /// Delete even folders holding a run that looks alive (its process, or a fresh heartbeat).
    #[arg(long)]
    force: bool,
    /// Accepted for compatibility with the original; ignored.
    #[arg(long, hide = true, num_args = 0..=1)]
    all: Option<Option<String>>,
}

/// Arguments of `xmen rm`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  xmen rm -r sweep            ask, then delete the set at sweep/ and unlink its runs\n  \
xmen rm -r sweep -y         without asking"
)]
pub struct RmArgs {
    /// The set root to delete, with everything in it.
    #[arg(short, long, value_name = "DIR", required_unless_present = "root_positional")]
    root: Option<PathBuf>,
    /// The set root, as the original's `xmen rm ROOT_DIR` gave it.
    #[arg(value_name = "ROOT_DIR", hide = true, conflicts_with = "root")]
    root_positional: Option<PathBuf>,
    /// Delete without asking.
    #[arg(short, long)]
    yes: bool,
    /// Delete even when a run in the set looks alive (its process, or a fresh heartbeat).
    #[arg(long)]
    force: bool,
}

/// A validated set-management command.
#[derive(Debug)]
pub enum Cmd {
    /// `xmen note`.
    Note { root: PathBuf, pattern: Pattern, message: String, delete: bool },
    /// `xmen reset`.
    Reset { root: PathBuf, pattern: Pattern, status: Status },
    /// `xmen unlink`.
    Unlink { root: PathBuf, pattern: Pattern },
    /// `xmen relink`.
    Relink { root: PathBuf, recursive: bool, adopt: Option<Pattern> },
    /// `xmen move`.
    Move { root: PathBuf, dest: PathBuf },
    /// `xmen clean`.
    Clean { root: PathBuf, yes: bool, force: bool },
    /// `xmen rm`.
    Rm { root: PathBuf, yes: bool, force: bool },
}

impl NoteArgs {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        if self.message.trim().is_empty() {
            anyhow::bail!("the note is empty; give the text to attach");
        }
        let (root, pattern) = locate(self.root, &self.pattern);
        Ok(Cmd::Note { root, pattern: Pattern::new(&pattern), message: self.message, delete: self.delete })
    }
}

impl ResetArgs {
    /// Check the arguments (no disk I/O; the status was validated by its parser: one of the eleven).
    pub fn validate(self) -> Cmd {
        let (root, pattern) = locate(self.root, &self.pattern);
        Cmd::Reset { root, pattern: Pattern::new(&pattern), status: self.status }
    }
}

/// A pattern holding a `/` is a path to runs (`sets/big/lr=0.1*`, `/abs/set/run`): the set is
/// its folder (relative to `root`) and the pattern its last component, so runs can be named
/// from anywhere.
pub fn locate(root: PathBuf, pattern: &str) -> (PathBuf, String) {
    let trimmed = pattern.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((dir, last)) if !last.is_empty() => {
            let dir = if dir.is_empty() { "/" } else { dir };
            (root.join(dir), last.to_owned())
        }
        _ => (root, pattern.to_owned()),
    }
}

impl UnlinkArgs {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> Cmd {
        let (root, pattern) = locate(self.root, &self.pattern);
        Cmd::Unlink { root, pattern: Pattern::new(&pattern) }
    }
}

impl RelinkArgs {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> Cmd {
        Cmd::Relink { root: self.root, recursive: self.recursive, adopt: self.experiments.as_deref().map(Pattern::new) }
    }
}

impl MoveArgs {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> Cmd {
        match self.then {
            Some(dest) => Cmd::Move { root: self.root.join(self.dest), dest },
            None => Cmd::Move { root: self.root, dest: self.dest },
        }
    }
}

impl CleanArgs {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> Cmd {
        Cmd::Clean { root: self.root, yes: self.yes, force: self.force }
    }
}

impl RmArgs {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> Cmd {
        let root = self.root.or(self.root_positional).unwrap_or_default();
        Cmd::Rm { root, yes: self.yes, force: self.force }
    }
}

fn print_paths(paths: &[PathBuf]) {
    for p in paths {
        println!("  {}", p.display());
    }
}

/// Run a validated set-management command.
pub fn execute(cmd: Cmd, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Note { root, pattern, message, delete } => {
            let done = ops::note(&root, &pattern, &message, delete)?;
            if delete && done.changed.is_empty() {
                anyhow::bail!(
                    "removed no note: none of the {} experiment(s) matching `{}` has the note `{}` (a note is \
                     removed only when the text matches exactly); see the notes with `xmen list -f _notes`",
                    done.matched,
                    pattern.as_str(),
                    message.trim()
                );
            }
            let what = if delete { "Removed the note from" } else { "Left a note on" };
            println!("{what} {} of {} matching experiment(s):", done.changed.len(), done.matched);
            print_paths(&done.changed);
        }
        Cmd::Reset { root, pattern, status } => {
            let done = ops::reset(&root, &pattern, status)?;
            println!(
                "Reset {} experiment(s) to {status} (their previous attempt is kept under `_attempts`: \
                 `xmen list -A`):",
                done.changed.len()
            );
            print_paths(&done.changed);
        }
        Cmd::Unlink { root, pattern } => {
            let done = ops::unlink(&root, &pattern)?;
            println!("Unlinked {} experiment(s) from the set (their folders are kept):", done.len());
            print_paths(&done);
            println!("To delete the folders of unlinked experiments, run `xmen clean -r {}`.", root.display());
        }
        Cmd::Relink { root, adopt: Some(pattern), .. } => {
            let r = relink::adopt(&root, &pattern, &ctx.config_dir)?;
            for (folder, unknown) in &r.incompatible {
                eprintln!(
                    "Cannot re-link folder {} as params are not compatible with defaults (unknown parameters: {})",
                    folder.display(),
                    unknown.join(", ")
                );
            }
            if r.adopted.is_empty() {
                println!("No experiments to link that match `{}` and aren't managed already", pattern.as_str());
            }
            for f in &r.adopted {
                println!("Relinking {}", f.display());
            }
        }
        Cmd::Relink { root, recursive, adopt: None } => {
            let r = relink::replant(&root, recursive, &ctx.config_dir)?;
            print_relink(&r);
        }
        Cmd::Move { root, dest } => {
            let r = relink::move_set(&root, &dest, &ctx.config_dir)?;
            print_relink(&r);
        }
        Cmd::Clean { root, yes, force } => {
            let plan = ops::clean_plan(&root)?;
            if plan.is_empty() {
                println!("No folders found for deletion");
                return Ok(ExitCode::SUCCESS);
            }
            if !force {
                let live = ops::live_runs(&plan);
                if !live.is_empty() {
                    return Err(xmen_manager::ManagerError::Live {
                        runs: live.iter().map(ToString::to_string).collect(),
                    }
                    .into());
                }
            }
            println!("The following experiments were found for deletion (no longer managed by the set):");
            print_paths(&plan);
            let skip = yes || !GlobalConfig::load(&ctx.config_dir)?.prompt;
            if !confirm("Do you wish to continue?", skip)? {
                println!("Aborting!");
                return Ok(ExitCode::FAILURE);
            }
            let deleted = ops::clean(&root, &plan, &ctx.config_dir, force)?;
            println!("The following experiments were deleted:");
            print_paths(&deleted);
        }
        Cmd::Rm { root, yes, force } => {
            let set = ops::rm_plan(&root)?;
            if !force {
                let live = ops::live_runs(&[set.root().to_path_buf()]);
                if !live.is_empty() {
                    return Err(xmen_manager::ManagerError::Live {
                        runs: live.iter().map(ToString::to_string).collect(),
                    }
                    .into());
                }
            }
            let n = set.entries().len();
            println!(
                "This command will remove the whole experiment folder {} ({n} managed experiment{} and everything else in it).",
                set.root().display(),
                if n == 1 { "" } else { "s" }
            );
            let skip = yes || !GlobalConfig::load(&ctx.config_dir)?.prompt;
            if !confirm("Do you wish to continue?", skip)? {
                println!("Aborting!");
                return Ok(ExitCode::FAILURE);
            }
            ops::rm(&set, &ctx.config_dir, force)?;
            println!("Removed {}", set.root().display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_relink(r: &relink::RelinkReport) {
    for s in &r.sets {
        if s.old_root == s.root {
            println!("Relinked the set {} ({} experiments)", s.root.display(), s.fixed.len());
        } else {
            println!(
                "Relinked the set {} (moved from {}; {} experiments)",
                s.root.display(),
                s.old_root.display(),
                s.fixed.len()
            );
        }
        if !s.missing.is_empty() {
            let shown: Vec<String> = s.missing.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "WARNING: {} managed experiment folder(s) not found (still listed in experiment.yml; `xmen unlink` them if they are gone):\n{}",
                shown.len(),
                bullet_list(&shown, 10)
            );
        }
        if let Some(script) = &s.foreign_script {
            eprintln!(
                "WARNING: {} is your own script and mentions the old root {}; xmen does not edit scripts it did not \
                 write: check it still runs from {}",
                script.display(),
                s.old_root.display(),
                s.root.display()
            );
        }
    }
    if !r.loose.is_empty() {
        println!("Relinked {} experiment folder(s) outside any set", r.loose.len());
    }
}
