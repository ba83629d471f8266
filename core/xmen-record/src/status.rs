//! The lifecycle status of an experiment (docs/file-formats.md#_status).

use std::fmt;
use std::str::FromStr;

use crate::error::RecordError;

/// Where an experiment is in its lifecycle; written as `_status` in params.yml.
///
/// ```text
/// default ──register──▶ registered ──run──▶ running ──▶ finished | stopped | timeout | requeue | error
///    └──detach──▶ detached ──run──▶ running        timeout / requeue ──run──▶ running
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Status {
    /// Not registered: parameters may change; the record is a defaults.yml.
    #[default]
    Default,
    /// Registered to a folder and waiting to run.
    Registered,
    /// Running now.
    Running,
    /// The run completed.
    Finished,
    /// The run failed.
    Error,
    /// The run was interrupted (SIGINT or SIGTERM).
    Stopped,
    /// The run received SIGUSR1 (a SLURM time limit).
    Timeout,
    /// Timed out and requeued with SLURM.
    Requeue,
    /// Running without a folder (nothing is persisted).
    Detached,
    /// Defined by the original but never assigned.
    Debug,
    /// Reserved for a later issue: the process that ran the experiment has gone away.
    Lost,
}

impl Status {
    /// The statuses `xmen reset --help` lists, in the original's order, plus `lost`.
    pub const ALL: [Status; 11] = [
        Status::Default,
        Status::Registered,
        Status::Running,
        Status::Error,
        Status::Debug,
        Status::Stopped,
        Status::Timeout,
        Status::Finished,
        Status::Detached,
        Status::Requeue,
        Status::Lost,
    ];

    /// The names of [`Status::ALL`], for help texts and error messages.
    pub fn names() -> Vec<&'static str> {
        Status::ALL.iter().map(|s| s.as_str()).collect()
    }

    /// The name written to params.yml (`registered`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Default => "default",
            Status::Registered => "registered",
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Error => "error",
            Status::Stopped => "stopped",
            Status::Timeout => "timeout",
            Status::Requeue => "requeue",
            Status::Detached => "detached",
            Status::Debug => "debug",
            Status::Lost => "lost",
        }
    }

    /// Whether an experiment in this status may be run: `registered`, `detached`, `timeout` or
    /// `requeue` (the original's CLI assertion).
    pub fn is_runnable(self) -> bool {
        matches!(self, Status::Registered | Status::Detached | Status::Timeout | Status::Requeue)
    }

    /// Whether an experiment may be run, where `restart` also allows a `stopped` one.
    pub fn can_run(self, restart: bool) -> bool {
        self.is_runnable() || (restart && self == Status::Stopped)
    }

    /// Whether parameters may be changed: `default` or `detached`.
    pub fn is_mutable(self) -> bool {
        matches!(self, Status::Default | Status::Detached)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = RecordError;

    /// Parse a status name exactly as written (lower case); the error lists the valid names.
    fn from_str(s: &str) -> Result<Status, RecordError> {
        Status::ALL
            .iter()
            .copied()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| RecordError::InvalidStatus { value: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_name() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().ok(), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
    }

    #[test]
    fn parsing_rejects_unknown_and_miscased_names_listing_valid_ones() {
        for bad in ["", "Registered", "created", "deleted", "done", " running"] {
            let err = bad.parse::<Status>().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("not a valid status"), "{bad:?}: {err}");
            assert!(err.contains("registered, running"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn runnable_statuses_follow_the_cli_assertion() {
        let table = [
            (Status::Default, false, false),
            (Status::Registered, true, true),
            (Status::Running, false, false),
            (Status::Finished, false, false),
            (Status::Error, false, false),
            (Status::Stopped, false, true),
            (Status::Timeout, true, true),
            (Status::Requeue, true, true),
            (Status::Detached, true, true),
            (Status::Debug, false, false),
            (Status::Lost, false, false),
        ];
        for (s, runnable, on_restart) in table {
            assert_eq!(s.is_runnable(), runnable, "{s}");
            assert_eq!(s.can_run(true), on_restart, "{s}");
            assert_eq!(s.can_run(false), runnable, "{s}");
        }
    }

    #[test]
    fn all_lists_the_original_order_then_lost() {
        assert_eq!(
            Status::names(),
            [
                "default",
                "registered",
                "running",
                "error",
                "debug",
                "stopped",
                "timeout",
                "finished",
                "detached",
                "requeue",
                "lost"
            ]
        );
    }
}
