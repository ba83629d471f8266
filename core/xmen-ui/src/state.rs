//! What the server knows: the configuration folder, which linked runs it shows, its token and
//! the caches (the linked list by the configuration file's stamp, the event files by path).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use xmen_manager::list::Selection;
use xmen_record::GlobalConfig;
use xmen_tfevents::ScalarFile;

use crate::UiError;

/// The linked folders the server shows, cached until xmen.yml changes.
#[derive(Debug, Default)]
struct Linked {
    stamp: Option<(SystemTime, u64)>,
    all: Arc<Vec<String>>,
    shown: Arc<Vec<String>>,
    set: Arc<HashSet<String>>,
}

/// The whole linked list, the folders shown, and the same as a set.
pub type Folders = (Arc<Vec<String>>, Arc<Vec<String>>, Arc<HashSet<String>>);

/// The shared state of one `xmen ui`.
#[derive(Debug)]
pub struct App {
    /// The global configuration folder (`$XMEN`).
    pub config_dir: PathBuf,
    /// The `PATHS...` as selections (empty: every linked run).
    selections: Vec<Selection>,
    /// What is shown, for messages (`every linked run`, `/data/sweeps/*`).
    pub described: String,
    /// The token every request must carry.
    pub token: String,
    /// The `Host` header values accepted (`127.0.0.1:8765`, `localhost:8765`...; `*`: any).
    pub hosts: Vec<String>,
    /// The list index (`None`: parse every params.yml each time).
    pub index: Option<PathBuf>,
    linked: Mutex<Linked>,
    /// Event files read so far, each read on from where it stopped.
    events: Mutex<HashMap<PathBuf, Arc<Mutex<ScalarFile>>>>,
}

/// Take a lock even if a panicking request poisoned it: the data are caches, rebuilt from disk.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// A server state over `paths` (folders or globs relative to `cwd`; none: every linked run).
    pub fn new(config_dir: PathBuf, paths: &[String], cwd: &Path, token: String, hosts: Vec<String>) -> App {
        let selections: Vec<Selection> = paths
            .iter()
            .map(|p| {
                Selection::glob(p, cwd)
                    .unwrap_or_else(|| Selection::under(&xmen_manager::list::select::normalize(&cwd.join(p)), cwd))
            })
            .collect();
        let described = if paths.is_empty() { "every linked run".to_owned() } else { paths.join(", ") };
        let index = Some(config_dir.join("cache").join(xmen_manager::list::index::INDEX_FILE));
        App {
            config_dir,
            selections,
            described,
            token,
            hosts,
            index,
            linked: Mutex::new(Linked::default()),
            events: Mutex::new(HashMap::new()),
        }
    }

    /// The linked list (all of it), the folders shown (in linked order) and the same as a set.
    pub fn folders(&self) -> Result<Folders, UiError> {
        let file = self.config_dir.join(xmen_record::config::CONFIG_FILE);
        let stamp = std::fs::metadata(&file).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut linked = lock(&self.linked);
        // A stamp younger than 2 s is not trusted (a rewrite within the same tick).
        let fresh = stamp.is_some_and(|(t, _)| t.elapsed().map_or(true, |e| e.as_secs() < 2));
        if stamp.is_none() || stamp != linked.stamp || fresh {
            let config = GlobalConfig::load(&self.config_dir).map_err(UiError::Config)?;
            let shown = if self.selections.is_empty() {
                xmen_manager::list::select(&config.linked, &Selection::Under(vec![String::new()]))
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            } else {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for s in &self.selections {
                    for f in xmen_manager::list::select(&config.linked, s) {
                        if seen.insert(f) {
                            out.push(f.to_owned());
                        }
                    }
                }
                out
            };
            linked.set = Arc::new(shown.iter().cloned().collect());
            linked.shown = Arc::new(shown);
            linked.all = Arc::new(config.linked);
            linked.stamp = stamp;
        }
        Ok((linked.all.clone(), linked.shown.clone(), linked.set.clone()))
    }

    /// `path` if it is one of the runs shown (exactly: nothing outside the linked sets is ever
    /// read on a request's behalf).
    pub fn run_folder(&self, path: &str) -> Result<PathBuf, UiError> {
        let (_, _, set) = self.folders()?;
        if set.contains(path) {
            Ok(PathBuf::from(path))
        } else {
            Err(UiError::NotShown(path.to_owned()))
        }
    }

    /// The reader of the event file `path` (created on first use).
    pub fn event_file(&self, path: &Path) -> Arc<Mutex<ScalarFile>> {
        lock(&self.events)
            .entry(path.to_path_buf())
            .or_insert_with(|| Arc::new(Mutex::new(ScalarFile::new(path))))
            .clone()
    }
}
