//! `xmen ui`: the runs, their curves and their comparison in a browser, from the files alone.
//!
//! **Key design choice: the server is a view of the same files `xmen list` reads, and holds no
//! state of its own.** The runs table is the manager's listing through its index (so 10,000 runs
//! page in milliseconds and never disagree with `xmen list`), the run page reads params.yml and
//! notes are written with the manager's `note` (the same lock as `xmen note`), and curves come
//! from the TensorBoard event files through `xmen-tfevents`, the crate the hook writes them with.
//! Pages are rendered on the server, charts included (SVG), with one small inline script that
//! refreshes the parts marked `data-live` every second: no Node build, no chart library.
//!
//! Safety as in Jupyter: the server binds 127.0.0.1 unless told otherwise, every request needs
//! the token (printed in the URL at start; then a cookie), the `Host` header must name this
//! server, and a request can only name runs the server shows (see [`auth`] and
//! [`state::App::run_folder`]).

pub mod auth;
pub mod chart;
pub mod compare;
pub mod curves;
pub mod html;
pub mod run;
pub mod server;
pub mod state;
pub mod table;

use std::path::PathBuf;

pub use server::{router, serve};
pub use state::App;

/// Arguments of `xmen ui`.
#[derive(clap::Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
xmen ui                         every linked run, at http://127.0.0.1:8765/?token=...\n  \
xmen ui /data/sweeps/lr-sweep   the runs of one set (or any folder or glob, as in xmen list)\n  \
xmen ui --port 0 --token \"$(openssl rand -hex 16)\"   a free port and a token fixed by a script\n\n\
Every request needs the token (the printed URL carries it; the browser keeps it in a cookie). \
On a shared machine, reach a remote server through `ssh -L 8765:127.0.0.1:8765 host`.")]
pub struct UiArgs {
    /// Sets, folders or globs of linked runs to show (as `xmen list` takes them); default: every
    /// linked run.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<String>,
    /// The port (0: a free one, printed at start).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// The address to bind; other than 127.0.0.1 makes the server reachable from other machines
    /// (the token still guards it).
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub host: String,
    /// A fixed token for scripts (at least 16 URL-safe characters); default: a random one.
    #[arg(long, env = "XMEN_UI_TOKEN", value_name = "T", hide_env_values = true)]
    pub token: Option<String>,
}

/// What can stop the server or a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UiError {
    /// The global configuration (the linked list) cannot be read.
    #[error("cannot read the global configuration: {0}")]
    Config(#[source] xmen_record::RecordError),
    /// A request named a folder that is not one of the runs shown.
    #[error("`{0}` is not one of the runs this server shows; only linked runs selected at start are served")]
    NotShown(String),
    /// A run's record cannot be read.
    #[error("{0}")]
    Record(#[source] xmen_record::RecordError),
    /// A note could not be written.
    #[error("{0}")]
    Manager(#[source] xmen_manager::ManagerError),
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// `--token` or `--host` is not usable.
    #[error("{0}")]
    Args(String),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}; choose another --port (0 picks a free one) or --host")]
    Bind {
        /// `host:port`.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("the web server failed: {0}")]
    Io(#[source] std::io::Error),
}

/// The folder `$XMEN` names, for the command line.
pub fn config_dir() -> PathBuf {
    xmen_record::config_dir()
}
