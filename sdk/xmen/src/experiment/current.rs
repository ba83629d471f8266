//! The run in progress, so that a Monitor built inside it uses the record's `_hooks`.
//!
//! Key design choice: hooks declared in defaults.yml or params.yml (`_hooks`) must change what
//! a run records with no rebuild and no code in the experiment, so the runner publishes the
//! running experiment's [`Root`] process-wide for the duration of its body, and
//! [`Monitor::builder`](crate::Monitor::builder) appends that record's `_hooks` after its own
//! hooks (see the builder's module documentation for the whole order). A Monitor can opt out
//! ([`MonitorBuilder::record_hooks`](crate::MonitorBuilder::record_hooks)), e.g. a second,
//! validation-only Monitor, or name another record ([`MonitorBuilder::root`](crate::MonitorBuilder::root)).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use xmen_loader::{HookConfig, LoadError};

use super::Root;

static CURRENT: Mutex<Option<Root>> = Mutex::new(None);

/// Which record's `_hooks` a Monitor adds to its own.
#[derive(Clone, Debug, Default)]
pub enum RecordHooks {
    /// The run in progress, if any (the default).
    #[default]
    Current,
    /// None.
    Off,
    /// This experiment's.
    Of(Root),
}

/// Publishes a run for as long as it is alive.
pub(crate) struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        *CURRENT.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Make `root` the run in progress until the returned guard drops.
pub(crate) fn enter(root: &Root) -> Entered {
    *CURRENT.lock().unwrap_or_else(PoisonError::into_inner) = Some(root.clone());
    Entered(())
}

/// The run in progress, if the process is inside an experiment's body.
pub fn current_run() -> Option<Root> {
    CURRENT.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The `_hooks` entries a Monitor adds: those of the record chosen by `which`, read as the
/// record is now, and the folder their hooks get as option `directory` when they declare it:
/// the Monitor's, else the run's.
pub(crate) fn record_hooks(
    which: &RecordHooks,
    monitor_dir: Option<&Path>,
) -> Result<(Vec<HookConfig>, Option<PathBuf>), LoadError> {
    let root = match which {
        RecordHooks::Off => return Ok((Vec::new(), None)),
        RecordHooks::Current => match current_run() {
            Some(r) => r,
            None => return Ok((Vec::new(), None)),
        },
        RecordHooks::Of(r) => r.clone(),
    };
    let record = root.record().map_err(|e| LoadError::Config(format!("reading the run's `_hooks`: {e}")))?;
    let Some(list) = record.hooks else { return Ok((Vec::new(), None)) };
    let origin = root.params_path().map_or_else(|| "the run's record".to_owned(), |p| p.display().to_string());
    // `lenient_hooks: true` in xmen.yml makes every entry without its own `lenient` lenient.
    let lenient = xmen_record::GlobalConfig::load(&xmen_record::config_dir()).is_ok_and(|c| c.lenient_hooks);
    let configs =
        HookConfig::list_from_value_with(&list, lenient).map_err(|e| LoadError::Config(format!("{origin}: {e}")))?;
    Ok((configs, Some(monitor_dir.unwrap_or(root.directory()).to_path_buf())))
}
