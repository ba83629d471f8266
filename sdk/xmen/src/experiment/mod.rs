//! The experiment-author surface: declared parameters, the run body, the [`Root`] it runs in,
//! and the single-experiment command line.
//!
//! **Key design choice: composition replaces inheritance, and the struct is the source of
//! truth.** An experiment is a plain struct whose fields are its parameters
//! (`#[derive(Experiment)]` implements [`Parameters`]); the run body is [`Experiment::run`].
//! The original's base classes become fields marked `#[param(flatten)]`, whose parameters are
//! merged into the outer experiment's (a name declared twice is a compile error naming both
//! owners). Every write of the record goes through the record crate's locked
//! read-modify-write, so the running experiment, `xmen note` and the Messenger hook never lose
//! each other's updates.
//!
//! ```
//! use xmen::{Experiment, Parameters, Root, RunResult};
//!
//! /// A hello world experiment.
//! #[derive(Experiment)]
//! struct HelloWorld {
//!     /// The first argument
//!     #[param(default = "Hello")]
//!     a: String,
//!     /// How many times to greet
//!     #[param(default = 2)]
//!     times: u32,
//! }
//!
//! impl Experiment for HelloWorld {
//!     fn run(&mut self, root: &Root) -> RunResult {
//!         for _ in 0..self.times {
//!             println!("{} from {}", self.a, root.directory().display());
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let help: Vec<String> = HelloWorld::parameters().iter().map(|p| p.help_line()).collect();
//! assert_eq!(help, ["a: String='Hello' ~ The first argument", "times: u32=2 ~ How many times to greet"]);
//! // In `main`: `xmen::main::<HelloWorld>()`.
//! ```

mod cli;
pub(crate) mod cost;
pub mod current;
#[doc(hidden)]
pub mod decl;
mod error;
mod help;
mod root;
mod run;
mod services;
mod slurm;
mod tee;
mod value;

pub use cli::{main, main_with_args};
pub use error::ExperimentError;
pub use help::{display_record, help_block, wrap};
pub use root::{LiveRoots, Root, RootMessenger};
pub use value::{ParamError, ParamValue};

use xmen_core::Value;

/// What a run body returns: any error type converts into it with `?` (`std::io::Error`,
/// `anyhow::Error`, a `String` via `.into()`), and its whole `source()` chain is recorded.
pub type RunResult = Result<(), Box<dyn std::error::Error + Send + Sync + 'static>>;

/// One declared parameter: what help, `--help`, defaults.yml and params.yml show.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    /// The parameter's name (the field or argument name).
    pub name: &'static str,
    /// The declared Rust type, as written (`Vec<f64>`).
    pub type_text: &'static str,
    /// The default value (after any `defaults(...)` override of an outer experiment).
    pub default: Value,
    /// The help text (the field's doc comment or `help = "..."`), empty for none.
    pub help: &'static str,
    /// The experiment (struct or function) that declares it: the group heading in help.
    pub owner: &'static str,
}

impl ParamInfo {
    /// A declared parameter whose default is filled in later (used by the derive).
    #[doc(hidden)]
    pub fn declared(name: &'static str, type_text: &'static str, help: &'static str, owner: &'static str) -> Self {
        ParamInfo { name, type_text, default: Value::None, help, owner }
    }

    /// The help string in the one format xmen writes (the original had three):
    /// `{name}[: {type}][={default}][ ~ {help}]`, the default shown as Python's `repr`.
    ///
    /// ```
    /// use xmen::{ParamInfo, Value};
    /// let p = ParamInfo { name: "lr", type_text: "f64", default: Value::Float(0.001),
    ///                     help: "The learning rate", owner: "Train" };
    /// assert_eq!(p.help_line(), "lr: f64=0.001 ~ The learning rate");
    /// ```
    pub fn help_line(&self) -> String {
        let default = xmen_core::pyfmt::repr_of(&self.default);
        xmen_record::help_line(self.name, Some(self.type_text), Some(&default), Some(self.help))
    }
}

/// The declared parameters of an experiment or of a part of one. Implemented by
/// `#[derive(Experiment)]` (and `#[experiment]`); you do not implement it by hand.
///
/// The derive reads, for each named field: the type, the default (`#[param(default = expr)]`,
/// else `Default::default()`; a string literal converts with `Into`) and the help (the doc
/// comment, or `#[param(help = "...")]`). The struct's doc comment is the description.
/// Field attributes:
///
/// | attribute | meaning |
/// |---|---|
/// | `#[param(default = expr)]` | the default value |
/// | `#[param(help = "...")]` | the help text, instead of the doc comment |
/// | `#[param(flatten)]` | the field's type derives `Experiment`: its parameters are merged in |
/// | `#[param(flatten, defaults(lr = 0.01, ...))]` | ... with some of their defaults overridden |
/// | `#[param(skip)]` | not a parameter: built with `Default::default()`, never written |
///
/// Composition rules: a parameter name must be unique across the struct and all its
/// flattened parts (a duplicate is a compile error naming both owners); an outer experiment
/// changes a part's default only through `defaults(...)` at the flatten site (a name the part
/// lacks is a compile error; a value of the wrong type panics when the experiment is first
/// built, naming the field and the fix).
///
/// ```
/// use xmen::{Experiment, Parameters, Value};
///
/// /// Optimiser settings, shared by several experiments.
/// #[derive(Experiment)]
/// struct Optimizer {
///     /// The learning rate
///     #[param(default = 0.001)]
///     lr: f64,
/// }
///
/// /// Training.
/// #[derive(Experiment)]
/// struct Train {
///     #[param(flatten, defaults(lr = 0.1))]
///     opt: Optimizer,
///     /// Passes over the data
///     #[param(default = 10)]
///     epochs: usize,
/// }
///
/// let t = Train::from_defaults();
/// assert_eq!(t.opt.lr, 0.1);
/// assert_eq!(t.values(), vec![("lr".to_owned(), Value::Float(0.1)), ("epochs".to_owned(), Value::Int(10))]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be flattened into an experiment: it does not derive `xmen::Experiment`",
    label = "not an experiment part",
    note = "add `#[derive(xmen::Experiment)]` to `{Self}`, or remove `#[param(flatten)]` to use it as a single parameter"
)]
pub trait Parameters: Sized + 'static {
    /// The experiment's name: the struct's name, or the function's for `#[experiment]`.
    const NAME: &'static str;
    /// The description: the doc comment of the struct or function.
    const DESCRIPTION: &'static str;
    /// The declaration tree, checked at compile time.
    #[doc(hidden)]
    const DECLS: &'static [decl::Decl];
    /// Where the type was defined, for `_version`.
    #[doc(hidden)]
    const SOURCE: decl::Source;

    /// Every parameter, flattened parts included, in field order.
    fn parameters() -> Vec<ParamInfo>;
    /// An instance holding every default.
    fn from_defaults() -> Self;
    /// The current value of every parameter, in field order.
    fn values(&self) -> Vec<(String, Value)>;
    /// Set the parameter `name` from a value: `Ok(false)` when there is no such parameter, an
    /// error naming the parameter and its type when the value does not fit.
    fn set(&mut self, name: &str, value: &Value) -> Result<bool, ParamError>;
}

/// An experiment: declared [`Parameters`] plus a run body.
///
/// `#[derive(Experiment)]` declares the parameters; you write `impl Experiment` with
/// [`Experiment::run`] (see the [module documentation](self) for an example). Run it from
/// `main` with [`crate::main`].
pub trait Experiment: Parameters {
    /// The run body. `root` gives the experiment's folder and its record (messages, notes).
    /// An error (or a panic) marks the run `error` and records the message.
    fn run(&mut self, root: &Root) -> RunResult;

    /// Called with `--debug`, before updates, to shrink the experiment for a quick run
    /// (the original's `debug()`). Does nothing by default.
    fn debug(&mut self) {}
}

/// Turn a function into an experiment (the functional API).
///
/// The function's first argument receives the [`Root`]; each other argument is a parameter,
/// declared with `#[param(default = expr, help = "...")]` (doc comments are not allowed on
/// function arguments). The macro keeps the function and generates a struct, named after
/// the function in CamelCase (or `#[experiment(name = TypeName)]`), that implements
/// [`Experiment`] by calling the function with clones of its fields. The experiment's name
/// is the function's. The function returns `()` or `Result<(), E>` for any error type.
///
/// ```
/// use xmen::{Parameters, Root};
///
/// /// Greets.
/// #[xmen::experiment]
/// fn hello(
///     root: &Root,
///     #[param(default = "Hello", help = "The greeting")] a: String,
///     #[param(default = 3)] times: u32,
/// ) -> Result<(), std::io::Error> {
///     for _ in 0..times {
///         println!("{a} from {}", root.directory().display());
///     }
///     Ok(())
/// }
///
/// assert_eq!(Hello::NAME, "hello");
/// assert_eq!(Hello::parameters()[0].help_line(), "a: String='Hello' ~ The greeting");
/// ```
pub use xmen_macros::experiment;

/// Run `body` in the registered (or detached) experiment `root` exactly as [`crate::main`] runs
/// an [`Experiment`]: the record goes `running` with the full meta, signals are watched
/// (SIGINT/SIGTERM `stopped`, SIGUSR1 `timeout`/`requeue`), Monitors built inside use the
/// record's `_hooks`, output is copied to `out.txt` when `txt` (default: the configuration's
/// `redirect_stdout`), and the end (`finished`, `error` with the message, what the hooks
/// cost) is recorded. For hosts whose experiments are not Rust types: the Python package.
/// Returns the exit code [`crate::main`] would (0, 1, 101, 128 + signal).
pub fn run_body(
    root: &Root,
    restart: bool,
    txt: Option<bool>,
    body: impl FnOnce(&Root) -> RunResult,
) -> Result<u8, ExperimentError> {
    let cfg = xmen_record::GlobalConfig::load(&xmen_record::config_dir())?;
    run::start(root, restart, cfg.save_conda)?;
    run::body_with(root, txt.unwrap_or(cfg.redirect_stdout), body)
}

#[doc(hidden)]
pub mod private {
    pub use super::decl::{
        check_decls, check_override, conv, fill_defaults, into_run_result, override_defaults, part, Conv, Decl,
        IntoRunResult, Part, Source,
    };
    pub use super::value::ParamError;
    pub use super::ParamInfo;
    pub use xmen_core::Value;
}
