//! `xmen register`: one experiment folder per sweep combination and repeat.
//!
//! Everything that can be checked is checked before the first folder is created: the set, the
//! defaults, the sweep's keys and the type of every alternative. Then, under the lock of
//! experiment.yml (so concurrent registrations cannot take the same names), each experiment
//! gets its folder, params.yml (in the manager's layout, resolved against the set root and
//! never the cwd) and run.sh. experiment.yml and the global `linked` list are each
//! written once at the end. The folders are made on one thread and filled on every core (see
//! `write_all`). If a write fails half way, the experiments already written are still
//! recorded and linked before the error is returned, and the folders made but not finished
//! are removed.
//!
//! **One sync, between the folders and the files that name them.** Once the folders are
//! written, one `syncfs` of the set's file system ([`sync_file_system`]) puts them on disk;
//! only then is experiment.yml renamed into place and `linked` updated. So neither file can
//! ever durably name a run whose folder a power loss could take away. One sync of the file
//! system costs about as much as one `fsync` (tens of milliseconds) where an `fsync` per file
//! would cost 2,000 of them; the two files written after it are renamed atomically and not
//! synced (a power loss right after may lose the registration's record of its folders, which
//! the journal lets the next command adopt, never the other way round). If the sync fails,
//! nothing is recorded: the error is returned and the folders stay pending in the journal.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use xmen_core::pyfmt;
use xmen_core::Value;
use xmen_record::{
    git_info, meta, GlobalConfig, Layout, Record, RecordError, RecordFile, RegisterTemplate, Status, Timestamps,
};

use crate::error::{ManagerError, Result};
use crate::heal;
use crate::naming::{folder_name, NameAllocator};
use crate::scripts::{RunSh, DEFAULT_SHELL};
use crate::set::ExperimentSet;
use crate::setfile::{Entry, RUN_FILE};
use crate::sweep::Sweep;

/// What `xmen register` does.
#[derive(Clone, Debug)]
pub struct RegisterOpts {
    /// The set root.
    pub root: PathBuf,
    /// `-n`: the folder name of every experiment (suffixed on collisions).
    pub name: Option<String>,
    /// `-u`: the sweep.
    pub sweep: Option<Sweep>,
    /// `-H`: a file whose contents are the run.sh header (default: the configuration's header).
    pub header: Option<PathBuf>,
    /// `-p`: the purpose of these experiments (default: the set's purpose; the original ignored `-p`).
    pub purpose: Option<String>,
    /// `--shell`: the interpreter run.sh runs script.sh with.
    pub shell: String,
    /// `-x`: how many experiments per combination.
    pub repeats: usize,
    /// The global configuration folder (`$XMEN`).
    pub config_dir: PathBuf,
    /// `--force`: register configurations the set already has (otherwise refused).
    pub force: bool,
}

impl RegisterOpts {
    /// Options for `root` with defaults: no name or sweep, one repeat, `/bin/bash`.
    pub fn new(root: impl Into<PathBuf>, config_dir: impl Into<PathBuf>) -> RegisterOpts {
        RegisterOpts {
            root: root.into(),
            name: None,
            sweep: None,
            header: None,
            purpose: None,
            shell: DEFAULT_SHELL.to_owned(),
            repeats: 1,
            config_dir: config_dir.into(),
            force: false,
        }
    }
}

/// What `xmen register` did.
#[derive(Clone, Debug)]
pub struct RegisterReport {
    /// The set root.
    pub root: PathBuf,
    /// The new experiment folders, in registration order.
    pub folders: Vec<PathBuf>,
}

/// `_version` of a registered experiment (docs/file-formats.md#_version): the defaults' map kept
/// whole (module and class are no longer dropped), with its `git` facts refreshed when `path`
/// lies in a work tree; null stays null.
pub fn registered_version(defaults_version: Option<&Value>) -> Option<Value> {
    let Some(Value::Map(m)) = defaults_version else { return defaults_version.cloned() };
    let mut m = m.clone();
    let path = m.iter().find(|(k, _)| k == "path").and_then(|(_, v)| v.as_str()).map(PathBuf::from);
    let git = path.and_then(|p| {
        let start = if p.is_file() { p.parent().map(Path::to_path_buf).unwrap_or(p) } else { p };
        git_info(&start)
    });
    if let Some(g) = git {
        match m.iter_mut().find(|(k, _)| k == "git") {
            Some((_, v)) => *v = g.to_value(),
            None => m.push(("git".into(), g.to_value())),
        }
    }
    Some(Value::Map(m))
}

/// The record every experiment of this registration starts from.
fn base_record(defaults: &Record, cfg: &GlobalConfig, purpose: String) -> Record {
    let mut base = defaults.clone();
    base.layout = Layout::Manager;
    base.root = None;
    base.status = Status::Registered;
    base.purpose = Some(purpose);
    base.notes.clear();
    base.messages.clear();
    base.timestamps = Timestamps::default();
    base.user = Some(cfg.local_user.clone());
    base.host = Some(cfg.local_host.clone());
    base.version = registered_version(defaults.version.as_ref());
    base.meta = Some(meta::basic());
    base
}

/// One experiment to write.
struct Planned {
    name: String,
    /// The values it sets, as [`RegisterTemplate::render`] takes them: parameter index (or
    /// `None` for `_hooks`) and typed value.
    set: Vec<(Option<usize>, Value)>,
    overrides: Vec<(String, Value)>,
    /// Its folder's name before numbering (`lr=0.1` of `lr=0.1_1`), for [`configuration_key`].
    base_name: String,
}

/// An experiment's name and configuration, as text that two experiments share exactly when
/// the second would be a numbered copy of the first (`lr=0.1_1`, `baseline_1`) running with
/// the same parameters and hooks: the base folder name, then the overrides that differ from
/// the defaults (maps merged into their default first), sorted by key. An override that cannot
/// be cast counts as given. Another name (`-n run2`) makes another experiment.
fn configuration_key<'a>(
    base_name: &str,
    defaults: &Record,
    overrides: impl Iterator<Item = (&'a str, &'a Value)>,
) -> String {
    let mut parts: Vec<(&str, String)> = overrides
        .filter_map(|(k, v)| {
            let default = match defaults.params.iter().find(|p| p.name == k) {
                Some(p) => &p.value,
                None if k == xmen_record::HOOKS_KEY => defaults.hooks.as_ref().unwrap_or(&Value::None),
                None => &Value::None,
            };
            let value = match (v, default) {
                (Value::Map(_), Value::Map(_)) => {
                    xmen_record::cast_to_default(v, default, k).unwrap_or_else(|_| v.clone())
                }
                _ => v.clone(),
            };
            (value != *default).then(|| (k, pyfmt::repr_of(&value)))
        })
        .collect();
    parts.sort();
    let mut out = format!("{base_name}\0");
    for (k, v) in parts {
        out.push_str(k);
        out.push('\0');
        out.push_str(&v);
        out.push('\0');
    }
    out
}

/// Refuse (unless `force`) planned experiments whose configuration one of `existing` has.
fn refuse_duplicates(root: &Path, defaults: &Record, existing: &[Entry], planned: &[Planned]) -> Result<()> {
    if existing.is_empty() {
        return Ok(());
    }
    let mut known: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
    for e in existing {
        let name = e.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        // `lr=0.1_1` is a copy of `lr=0.1`; `run_3` may also be a name given as such.
        for base in [Some(&*name), crate::naming::unsuffixed(&name)].into_iter().flatten() {
            let key = configuration_key(base, defaults, e.overrides.iter().map(|(k, v)| (k.as_str(), v)));
            known.entry(key).or_insert(e.path.as_path());
        }
    }
    let mut same = Vec::new();
    let mut seen = HashSet::new();
    for p in planned {
        let key = configuration_key(&p.base_name, defaults, p.overrides.iter().map(|(k, v)| (k.as_str(), v)));
        if let Some(old) = known.get(&key) {
            if seen.insert(key) {
                same.push(old.strip_prefix(root).unwrap_or(old).display().to_string());
            }
        }
    }
    if same.is_empty() {
        Ok(())
    } else {
        Err(ManagerError::Duplicate { root: root.to_path_buf(), same })
    }
}

/// Expand the sweep into named records (no disk writes; names are checked against the disk).
fn plan(
    opts: &RegisterOpts,
    set: &ExperimentSet,
    defaults: &Record,
    names: &mut NameAllocator,
) -> Result<Vec<Planned>> {
    let typed = match &opts.sweep {
        Some(sw) => Some(sw.typed(defaults, &set.defaults_path())?),
        None => None,
    };
    let combos: Vec<Vec<(&crate::sweep::TypedKey, &crate::sweep::TypedAlt)>> = match &typed {
        Some(t) => t.combinations().collect(),
        None => vec![Vec::new()],
    };
    let mut out = Vec::with_capacity(combos.len() * opts.repeats);
    for combo in combos {
        let set: Vec<(Option<usize>, Value)> = combo.iter().map(|(k, alt)| (k.param, alt.value.clone())).collect();
        let overrides: Vec<(String, Value)> = combo.iter().map(|(k, alt)| (k.key.clone(), alt.shown.clone())).collect();
        let base_name = match &opts.name {
            Some(n) => n.clone(),
            None => folder_name(overrides.iter().map(|(k, v)| (k.as_str(), v))),
        };
        for _ in 0..opts.repeats {
            let name = names.allocate(&base_name)?;
            let base_name = base_name.clone();
            out.push(Planned { name, set: set.clone(), overrides: overrides.clone(), base_name });
        }
    }
    Ok(out)
}

/// Create a file that must not exist yet, with Unix permission bits `mode`.
fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| ManagerError::io("create", path, e))?;
    f.write_all(bytes).map_err(|e| ManagerError::io("write", path, e))
}

/// Write the params.yml and run.sh of one experiment into its folder `dir`, just made.
///
/// The folder is made with `mkdir` (see [`write_all`]), which fails if it exists, so the
/// folder and everything in it are this registration's alone until experiment.yml and
/// `linked` name it at the end. That is why params.yml (rendered by the record crate) is
/// written directly, without [`RecordFile::write_new`]'s lock file or a temporary file and
/// rename (a third of the files a registration creates, and their cost is the kernel's).
/// run.sh comes last and ends with a known line, so a folder whose run.sh is whole is
/// complete; a crash half way leaves a folder without one (or with a cut one), which the
/// registration's journal lets the next command remove (see [`crate::heal`]).
fn write_files(dir: &Path, params_yml: &RegisterTemplate<'_>, run: &RunSh, p: &Planned) -> Result<Entry> {
    let now = pyfmt::now_stamp();
    let timestamps = Timestamps { created: Some(now.clone()), registered: Some(now), ..Timestamps::default() };
    let params = RecordFile::path_in(dir);
    create_new(&params, params_yml.render(&dir.display().to_string(), &timestamps, &p.set)?.as_bytes(), 0o644)?;
    create_new(&dir.join(RUN_FILE), run.text(&params).as_bytes(), 0o755)?;
    Ok(Entry { path: dir.to_path_buf(), overrides: p.overrides.clone() })
}

/// Write the planned folders, on every core.
///
/// One thread makes the folders, in plan order: it alone takes the set root's lock, which the
/// kernel holds through each `mkdir` (two threads making folders in one parent spent about a
/// fifth of the writing waiting for each other). Every thread, that one too once it is done,
/// writes the files of folders already made, claiming them one at a time in plan order;
/// each folder's files are created in that folder alone. After a failure nothing new is
/// started, and the folders this registration made but did not finish are removed (nothing
/// names them yet). The journal already names every folder, so the order in which threads
/// finish changes nothing a crash can leave. Returns the entries written, in plan order, and
/// the first failure in plan order.
fn write_all(
    root: &Path,
    params_yml: &RegisterTemplate<'_>,
    run: &RunSh,
    planned: &[Planned],
) -> (Vec<Entry>, Option<ManagerError>) {
    let dirs: Vec<PathBuf> = planned.iter().map(|p| root.join(&p.name)).collect();
    let staged = crate::par::par_serial_then(
        planned.len(),
        64,
        |i| std::fs::create_dir(&dirs[i]).map_err(|e| ManagerError::io("create the experiment folder", &dirs[i], e)),
        |i| write_files(&dirs[i], params_yml, run, &planned[i]),
    );
    let mut failure = staged.first_failure;
    let mut entries = Vec::with_capacity(planned.len());
    for (i, written) in staged.then.into_iter().enumerate() {
        match written {
            Some(Ok(e)) => entries.push(e),
            Some(Err(e)) => {
                if failure.as_ref().is_none_or(|(at, _)| i < *at) {
                    failure = Some((i, e));
                }
                let _ = std::fs::remove_dir_all(&dirs[i]);
            }
            None if i < staged.first_done => {
                let _ = std::fs::remove_dir_all(&dirs[i]);
            }
            None => {}
        }
    }
    (entries, failure.map(|(_, e)| e))
}

/// Flush the file system holding `root` to disk: registration's one sync (see the module
/// docs). Linux: `syncfs` on the folder, which waits for that file system only; other Unix
/// systems: `sync`; elsewhere nothing.
pub fn sync_file_system(root: &Path) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let dir = std::fs::File::open(root)?;
        rustix::fs::syncfs(&dir)?;
    }
    #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
    rustix::fs::sync();
    #[cfg(not(unix))]
    let _ = root;
    Ok(())
}

/// Register the experiments (see the module docs).
pub fn register(opts: &RegisterOpts) -> Result<RegisterReport> {
    register_with(opts, &sync_file_system)
}

/// [`register`] with the sync given (tests record when it runs).
fn register_with(opts: &RegisterOpts, sync: &(dyn Fn(&Path) -> std::io::Result<()> + Sync)) -> Result<RegisterReport> {
    if opts.name.is_none() && opts.sweep.is_none() {
        return Err(ManagerError::NothingToRegister);
    }
    // A killed `move` or `relink` is finished first (see `heal`): until then the set may not open.
    heal::heal_set(&opts.root, &opts.config_dir)?;
    let set = ExperimentSet::open(&opts.root)?;
    let root = set.root().to_path_buf();
    let defaults = Record::load(&set.defaults_path())?;
    let cfg = GlobalConfig::load(&opts.config_dir)?;
    let header = match &opts.header {
        Some(h) => std::fs::read_to_string(h).map_err(|e| ManagerError::io("read the run.sh header", h, e))?,
        None => cfg.header.clone(),
    };
    let purpose = opts.purpose.clone().or_else(|| set.file().purpose.clone()).unwrap_or_default();
    let base = base_record(&defaults, &cfg, purpose);
    let params_yml = RegisterTemplate::new(&base)?;
    let script = set.script_path();
    let repeats = opts.repeats.max(1);
    let opts = RegisterOpts { repeats, ..opts.clone() };

    let (folders, failure, healed, journal, replayed) = set.update_rendered(false, |file| {
        // What a killed registration left is repaired first (see `heal`).
        let (healed, replayed) = heal::heal(&root, file, Some(&defaults))?;
        let mut names = NameAllocator::new(&root);
        let planned = plan(&opts, &set, &defaults, &mut names)?;
        if !opts.force {
            refuse_duplicates(&root, &defaults, &file.entries, &planned)?;
        }
        let journal = heal::Journal::begin(&root, &planned.iter().map(|p| p.name.clone()).collect::<Vec<_>>())?;
        let run = RunSh::new(&header, &opts.shell, &script);
        let (entries, failure) = write_all(&root, &params_yml, &run, &planned);
        let folders: Vec<PathBuf> = entries.iter().map(|e| e.path.clone()).collect();
        file.entries.extend(entries);
        // The one sync: the folders (and those `heal` adopted) are on disk before
        // experiment.yml, renamed when this closure returns, and `linked` can name them. The
        // new experiment.yml is rendered while the sync waits for the disk; if the sync fails
        // the closure fails and nothing is written.
        let (synced, text) = std::thread::scope(|s| {
            let syncing = s.spawn(|| sync(&root));
            let text = file.to_yaml();
            (syncing.join(), text)
        });
        match synced {
            Ok(r) => r.map_err(|source| ManagerError::Sync { root: root.clone(), source })?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
        Ok(((folders, failure, healed, journal, replayed), Some(text?)))
    })?;
    let mut to_link = healed.to_link.clone();
    to_link.extend(folders.iter().cloned());
    link_all(&opts.config_dir, &to_link)?;
    journal.done();
    heal::finish(&replayed);
    heal::report(&healed);
    match failure {
        Some(e) => Err(e),
        None => Ok(RegisterReport { root, folders }),
    }
}

/// Add `folders` to the global `linked` list, once each, in one locked write.
pub fn link_all(config_dir: &Path, folders: &[PathBuf]) -> Result<()> {
    if folders.is_empty() {
        return Ok(());
    }
    GlobalConfig::update(config_dir, |c| {
        let mut known: HashSet<String> = c.linked.iter().cloned().collect();
        for f in folders {
            let s = f.display().to_string();
            if known.insert(s.clone()) {
                c.linked.push(s);
            }
        }
        Ok::<_, RecordError>(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh set with three parameters, and its configuration folder.
    fn new_set(base: &Path) -> (PathBuf, PathBuf) {
        let src = base.join("src");
        std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(src.join("defaults.yml"), "lr: 0.001 # lr: float=0.001 ~ The learning rate\nname: dog\n")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(src.join("script.sh"), "#!/bin/bash\necho ${1}\n").unwrap_or_else(|e| panic!("{e}"));
        let root = base.join("set");
        let opts = crate::InitOpts {
            root: root.clone(),
            source: crate::InitSource::Files {
                defaults: Some(src.join("defaults.yml")),
                script: Some(src.join("script.sh")),
            },
            purpose: "test".into(),
            kind: None,
        };
        crate::init(&opts).unwrap_or_else(|e| panic!("init: {e}"));
        (root, base.join("cfg"))
    }

    fn recorded(root: &Path) -> Vec<PathBuf> {
        let path = root.join("experiment.yml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        crate::SetFile::parse(&text, &path)
            .unwrap_or_else(|e| panic!("{e}"))
            .entries
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    fn linked(cfg: &Path) -> Vec<String> {
        GlobalConfig::load(cfg).unwrap_or_else(|e| panic!("{e}")).linked
    }

    #[test]
    fn the_one_sync_comes_after_every_folder_and_before_the_files_that_name_them() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (root, cfg) = new_set(t.path());
        let mut opts = RegisterOpts::new(&root, &cfg);
        opts.sweep = Some("{lr: 0.1 | 0.2 | 0.3, name: a | b}".parse().unwrap_or_else(|e| panic!("{e}")));
        let events = std::sync::Mutex::new(Vec::new());
        let report = register_with(&opts, &|synced: &Path| {
            // What is on disk when the sync runs: every folder complete, nothing naming it yet.
            let complete = std::fs::read_dir(&root)
                .unwrap_or_else(|e| panic!("{e}"))
                .flatten()
                .filter(|e| {
                    crate::scripts::run_sh_whole(&e.path().join(RUN_FILE)) && e.path().join("params.yml").is_file()
                })
                .count();
            let seen = (synced.to_path_buf(), complete, recorded(&root).len(), linked(&cfg).len());
            events.lock().unwrap_or_else(|e| panic!("{e}")).push(seen);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.folders.len(), 6);
        let events = events.into_inner().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(events, [(root.clone(), 6, 0, 0)], "one sync, after the 6 folders, before any record");
        assert_eq!(recorded(&root), report.folders);
        assert_eq!(linked(&cfg).len(), 6);
    }

    #[test]
    fn a_failed_sync_records_nothing_and_leaves_the_folders_to_the_journal() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (root, cfg) = new_set(t.path());
        let mut opts = RegisterOpts::new(&root, &cfg);
        opts.name = Some("run".into());
        let err = register_with(&opts, &|_: &Path| Err(std::io::Error::other("disk gone")))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("cannot sync")
                && err.contains(&root.display().to_string())
                && err.contains("disk gone")
                && err.contains("adopts the folders"),
            "{err}"
        );
        assert!(recorded(&root).is_empty() && linked(&cfg).is_empty());
        assert!(root.join(crate::heal::PENDING_DIR).is_dir(), "the journal still names the folder");
        // The real sync works on this file system.
        sync_file_system(&root).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_taken_folder_stops_the_registration_there_and_every_written_folder_is_returned_in_order() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = t.path();
        let planned: Vec<Planned> = (0..200)
            .map(|i| Planned {
                name: format!("run{i:03}"),
                set: Vec::new(),
                overrides: vec![("i".to_owned(), Value::Int(i))],
                base_name: String::new(),
            })
            .collect();
        // Someone else took the folder of run 50 after the names were allocated.
        std::fs::create_dir(root.join("run050")).unwrap_or_else(|e| panic!("{e}"));
        let base = Record { layout: Layout::Manager, ..Record::default() };
        let template = RegisterTemplate::new(&base).unwrap_or_else(|e| panic!("{e}"));
        let script = root.join("script.sh");
        let run = RunSh::new("", DEFAULT_SHELL, &script);
        let (entries, failure) = write_all(root, &template, &run, &planned);
        let failure = failure.map(|e| e.to_string()).unwrap_or_default();
        assert!(failure.contains("run050"), "{failure}");
        let names: Vec<String> =
            entries.iter().map(|e| e.path.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "plan order");
        assert!(names.iter().take(50).eq(planned.iter().take(50).map(|p| &p.name)), "{names:?}");
        // Every folder with a whole run.sh on disk is among the entries, and nothing else is.
        let mut on_disk: Vec<String> = std::fs::read_dir(root)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
            .filter(|e| crate::scripts::run_sh_whole(&e.path().join(RUN_FILE)))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, sorted);
        assert!(!names.contains(&"run050".to_owned()));
        // Folders are made in plan order, the maker stops at the taken one, and every folder
        // made before it is finished.
        assert_eq!(names.len(), 50);
        assert_eq!(std::fs::read_dir(root).map(|d| d.count()).unwrap_or(0), 51, "run000 to run049, and run050");
    }

    #[test]
    fn a_failed_params_yml_stops_the_registration_and_removes_the_folders_it_did_not_finish() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = t.path();
        let base = Record {
            layout: Layout::Manager,
            params: vec![xmen_record::Param::new("x", 1, "x: int=1")],
            ..Record::default()
        };
        // Run 120's value cannot be written to YAML: its params.yml fails after its folder is made.
        let planned: Vec<Planned> = (0..300)
            .map(|i| Planned {
                name: format!("run{i:03}"),
                set: vec![(Some(0), if i == 120 { Value::Image(vec![1]) } else { Value::Int(i) })],
                overrides: vec![("x".to_owned(), Value::Int(i))],
                base_name: String::new(),
            })
            .collect();
        let template = RegisterTemplate::new(&base).unwrap_or_else(|e| panic!("{e}"));
        let script = root.join("script.sh");
        let run = RunSh::new("", DEFAULT_SHELL, &script);
        let (entries, failure) = write_all(root, &template, &run, &planned);
        let failure = failure.map(|e| e.to_string()).unwrap_or_default();
        assert!(failure.contains('x') && failure.contains("image"), "{failure}");
        let names: Vec<String> =
            entries.iter().map(|e| e.path.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        assert!(names.iter().take(120).eq(planned.iter().take(120).map(|p| &p.name)), "{names:?}");
        assert!(!names.contains(&"run120".to_owned()));
        // What is on disk is exactly the finished folders: the failed one and those made
        // ahead of their files are gone.
        let mut on_disk: Vec<String> = std::fs::read_dir(root)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, names);
        for e in &entries {
            assert!(crate::scripts::run_sh_whole(&e.path.join(RUN_FILE)), "{}", e.path.display());
        }
    }
}
