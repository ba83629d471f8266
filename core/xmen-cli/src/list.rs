//! `xmen list`: arguments and execution (docs/migrating.md#listing-and-filters says
//! how it differs from the original).
//!
//! The arguments are validated first (filters, regexes, the pattern, conflicting outputs), then
//! the global configuration is read, the rows are selected and listed through the index of
//! `xmen_manager::list`, and the table is printed in one write.

use std::borrow::Cow;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use xmen_manager::list::{self as core, IndexOptions, ListSpec, RenderOptions, Selection, SortKey};
use xmen_record::{GlobalConfig, Record};

/// List experiments: the linked experiments under the current folder (or a path, a glob or
/// `--pattern`) as a table, one row per experiment.
///
/// Columns are chosen by regexes matched at the start of flattened keys (`_version.git.commit`
/// is `_version_git_commit`), or, when a regex matches no key, of the names the table shows
/// (`loss` for `_messages_loss`, `start` for `_timestamps_start`); a regex naming no column
/// of any listed experiment is an error (exit 2). An unquoted date compares as a time
/// (`-f "_timestamps_start>2026-12-01"`). Rows are kept when every cell
/// of every column matched by a `-f "REGEX OP VALUE"` filter satisfies it (the filters are
/// AND-ed). Inside an experiment folder (or given one), its record is printed instead.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
xmen list -s -d                      status and dates of the experiments under the current folder\n  \
xmen list -f \"(?!_).*\"                every parameter\n  \
xmen list -f \"lr<0.01\" -f \"a=='Hello'\"   rows where lr < 0.01 and a is 'Hello' (AND)\n  \
xmen list -s -f \"_messages_.*\" --sort=-loss   all messages, largest loss first\n  \
xmen list -C -f \"_hooks_cost_logger_share>0.01\"   runs whose logger took over 1% of the wall time\n  \
xmen list /data/sweeps --csv > runs.csv\n  \
xmen list '/data/sweeps/lr=*' -N      notebook summary per set\n  \
xmen list sweeps/a sweeps/b -s --since 2026-12-01   two sets in one table, runs started since\n  \
xmen list -A -s                       how many attempts each run took, how the last one ended\n\n\
A warm listing reads a cache ($XMEN/cache/list-index.bin); the params.yml files stay the \
source of truth and changed files are always read again.")]
pub struct ListArgs {
    /// Experiment folders, folders (the experiments inside them) or globs over experiment and
    /// set folders, any number: the rows of all of them, once each. One experiment folder alone
    /// prints its record. Default: the current folder.
    #[arg(value_name = "PATH_OR_GLOB", conflicts_with = "pattern")]
    targets: Vec<String>,

    /// Which linked experiments to list: a regex matched at the start of each folder path.
    #[arg(long, value_name = "REGEX")]
    pattern: Option<String>,

    /// Column regexes and row conditions (`REGEX`, `REGEX OP LITERAL` with OP one of
    /// `== != < <= > >=`); repeatable, all conditions must hold.
    #[arg(
        short = 'f',
        long = "filters",
        visible_alias = "filter",
        short_alias = 'p',
        aliases = ["param-match", "param_match"],
        value_name = "FILTER",
        num_args = 1..,
        action = clap::ArgAction::Append
    )]
    filters: Vec<String>,

    /// Show the timestamp columns (optionally with your own regex: `-d=REGEX`).
    #[arg(short = 'd', long = "display-date", alias = "display_date", value_name = "REGEX",
          num_args = 0..=1, require_equals = true, default_missing_value = core::DISPLAY_DATE)]
    display_date: Option<String>,

    /// Show the status column.
    #[arg(short = 's', long = "display-status", alias = "display_status", value_name = "REGEX",
          num_args = 0..=1, require_equals = true, default_missing_value = core::DISPLAY_STATUS)]
    display_status: Option<String>,

    /// Show the purpose column.
    #[arg(short = 'P', long = "display-purpose", alias = "display_purpose", value_name = "REGEX",
          num_args = 0..=1, require_equals = true, default_missing_value = core::DISPLAY_PURPOSE)]
    display_purpose: Option<String>,

    /// Show the version columns.
    #[arg(short = 'v', long = "display-version", alias = "display_version", value_name = "REGEX",
          num_args = 0..=1, require_equals = true, default_missing_value = core::DISPLAY_VERSION)]
    display_version: Option<String>,

    /// Show the Monitor's summary messages (`last e s wall end next *step *load`); other
    /// messages with `-f "_messages_.*"`.
    #[arg(short = 'm', long = "display-messages", alias = "display_messages", value_name = "REGEX",
          num_args = 0..=1, require_equals = true, default_missing_value = core::DISPLAY_MESSAGES)]
    display_messages: Option<String>,

    /// Show the basic meta columns (root, name, mac, host, user, home).
    #[arg(short = 'M', long = "display-meta", alias = "display_meta", value_name = "REGEX",
          num_args = 0..=1, require_equals = true, default_missing_value = core::DISPLAY_META)]
    display_meta: Option<String>,

    /// Show the attempt history: how many earlier attempts (`xmen reset`, `xmen run --retry`)
    /// and how the last one ended; every field of `_attempts` is in params.yml.
    #[arg(short = 'A', long = "attempts")]
    display_attempts: bool,

    /// Show what each hook cost the training thread (total seconds and share of the wall time
    /// per entry); every field with `-f "_hooks_cost_.*"`, one run's table with `xmen hooks cost`.
    #[arg(short = 'C', long = "display-cost")]
    display_cost: bool,

    /// Keep only experiments of these types: the set's type, or `_version`'s class, module,
    /// `module.class` or crate.
    #[arg(long = "type", visible_alias = "type-match", alias = "type_match", value_name = "TYPE",
          num_args = 1.., action = clap::ArgAction::Append)]
    types: Vec<String>,

    /// Notebook mode: a summary per set (members, last update, git, purposes, notes).
    #[arg(short = 'N', long = "notebook", alias = "list", conflicts_with_all = ["csv", "json"])]
    notebook: bool,

    /// Significant digits of floats in the table (0: all of them); CSV and JSON always have
    /// all.
    #[arg(long, value_name = "N", default_value_t = core::render::DEFAULT_PRECISION)]
    precision: usize,

    /// Maximum cell width; longer cells keep both ends around `...`. The table is also fitted
    /// to the terminal's width (or `$COLUMNS`) by narrowing its widest columns.
    #[arg(long = "max-width", alias = "max_width", value_name = "N", default_value_t = 60)]
    max_width: usize,

    /// Maximum number of rows shown (the first and last halves).
    #[arg(long = "max-rows", alias = "max_rows", value_name = "N")]
    max_rows: Option<usize>,

    /// Accepted for compatibility (interactive mode only in the original).
    #[arg(long = "max-n", alias = "max_n", value_name = "N", hide = true)]
    max_n: Option<usize>,

    /// Keep runs that started at or after this date (`2026-12-01`, `2026-12-01T10:30`): the
    /// filter `-f "_timestamps_start>=DATE"`.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,

    /// Keep runs that started before this date: the filter `-f "_timestamps_start<DATE"`.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,

    /// Sort the rows by a column (displayed or flattened name); `--sort=-COLUMN` for
    /// descending.
    #[arg(long, value_name = "COLUMN", allow_hyphen_values = true)]
    sort: Option<String>,

    /// Print CSV instead of a table.
    #[arg(long, conflicts_with = "json")]
    csv: bool,

    /// Print JSON (an array of row objects) instead of a table.
    #[arg(long)]
    json: bool,

    /// Read every params.yml, neither using nor writing the list index.
    #[arg(long = "no-index", alias = "no_index")]
    no_index: bool,

    /// The original's interactive mode; not available (it needs the original's server).
    #[arg(short = 'i', long = "interval", value_name = "SEC", num_args = 0..=1, require_equals = true,
          default_missing_value = "1.0", hide = true)]
    interval: Option<String>,
}

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Json,
    Notebook,
}

/// `xmen list` after validation, before any disk I/O.
#[derive(Debug)]
struct Cmd {
    target: Target,
    spec: ListSpec,
    format: Format,
    render: RenderOptions,
    use_index: bool,
    /// What the selection was, for messages.
    described: String,
    /// Nothing was asked for: an experiment folder given as the folder prints its record.
    record_dump: bool,
}

/// The width to fit the table in: `$COLUMNS` when set (shells set it without exporting it, so
/// a user exports it on purpose), else the terminal's width when stdout is one.
fn terminal_width() -> Option<usize> {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c > 0);
    from_env.or_else(|| {
        std::io::stdout().is_terminal().then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))).flatten()
    })
}

/// `/home/me/sets/big` as `~/sets/big`.
fn tilde(path: &Path) -> String {
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.as_os_str().len() > 1 => match path.strip_prefix(&home) {
            Ok(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
            Ok(rest) => format!("~/{}", rest.display()),
            Err(_) => path.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}

#[derive(Debug)]
enum Target {
    /// The cwd, a folder or a path argument: print its record if it is an experiment folder,
    /// else list the experiments under it.
    Folder(PathBuf),
    /// A `--pattern` regex.
    Pattern(Selection),
    /// A glob argument.
    Glob(Selection),
    /// Several path or glob arguments.
    Many(Vec<Target>),
}

/// One path or glob argument.
fn target_of(t: &str, cwd: &Path) -> (Target, String) {
    match Selection::glob(t, cwd) {
        Some(sel) => (Target::Glob(sel), format!("the glob `{t}`{}", literal_bracket_hint(t))),
        None => {
            let path = core::select::normalize(&cwd.join(t));
            let d = format!("the folder {}", path.display());
            (Target::Folder(path), d)
        }
    }
}

/// The linked experiment folders a target selects, in linked order (borrowed from `linked`,
/// except an experiment folder given as such).
fn folders_of<'a>(target: &Target, linked: &'a [String], cwd: &Path) -> Vec<Cow<'a, str>> {
    let borrowed = |v: Vec<&'a str>| v.into_iter().map(Cow::Borrowed).collect();
    match target {
        Target::Folder(dir) if dir.join("params.yml").is_file() => vec![Cow::Owned(dir.display().to_string())],
        Target::Folder(dir) => borrowed(core::select(linked, &Selection::under(dir, cwd))),
        Target::Pattern(sel) | Target::Glob(sel) => borrowed(core::select(linked, sel)),
        Target::Many(all) => {
            let mut seen = std::collections::HashSet::new();
            all.iter().flat_map(|t| folders_of(t, linked, cwd)).filter(|f| seen.insert(f.clone())).collect()
        }
    }
}

impl ListArgs {
    fn validate(self, cwd: &Path) -> anyhow::Result<Cmd> {
        if self.interval.is_some() {
            anyhow::bail!(
                "interactive mode (-i) is not available: it needs the original's server; \
                 use `watch -n 5 xmen list ...` for a refreshing view"
            );
        }
        let format = match (self.csv, self.json, self.notebook) {
            (true, _, _) => Format::Csv,
            (_, true, _) => Format::Json,
            (_, _, true) => Format::Notebook,
            _ => Format::Table,
        };
        let mut toggles: Vec<&str> = [
            &self.display_date,
            &self.display_status,
            &self.display_purpose,
            &self.display_messages,
            &self.display_version,
            &self.display_meta,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
        if self.display_attempts {
            toggles.push(core::DISPLAY_ATTEMPTS);
        }
        if self.display_cost {
            toggles.push(core::DISPLAY_HOOKS_COST);
        }
        // Nothing asked for: the status and the parameters that differ between the rows.
        let default_display = toggles.is_empty() && self.filters.is_empty() && format != Format::Notebook;
        if default_display {
            toggles.push(core::DISPLAY_STATUS);
        }
        if format == Format::Notebook {
            toggles.extend(core::NOTEBOOK_FILTERS);
        }
        let mut user = self.filters;
        for (flag, date, op) in [("--since", &self.since, ">="), ("--until", &self.until, "<")] {
            if let Some(d) = date {
                if core::filter::time_key(d).is_none() {
                    anyhow::bail!(
                        "{flag} `{d}` is not a date; write it as YYYY-MM-DD, optionally with a time: \
                         {flag} 2026-12-01 or {flag} 2026-12-01T10:30"
                    );
                }
                user.push(format!("_timestamps_start{op}{d}"));
            }
        }
        let mut spec = ListSpec::new(&toggles, &user)?;
        // A display flag given its own regex (`-d=start`) must name a column, like `-f`.
        for (given, default) in [
            (&self.display_date, core::DISPLAY_DATE),
            (&self.display_status, core::DISPLAY_STATUS),
            (&self.display_purpose, core::DISPLAY_PURPOSE),
            (&self.display_messages, core::DISPLAY_MESSAGES),
            (&self.display_version, core::DISPLAY_VERSION),
            (&self.display_meta, core::DISPLAY_META),
        ] {
            if let Some(regex) = given.as_deref().filter(|r| *r != default) {
                spec.check_toggle(regex);
            }
        }
        spec.swept = default_display;
        let record_dump = default_display && self.types.is_empty();
        spec.types = self.types;
        spec.sort = self.sort.map(|s| match s.parse::<SortKey>() {
            Ok(k) => k,
            Err(never) => match never {},
        });
        if self.max_width == 0 {
            anyhow::bail!("--max-width must be at least 1 (the default is 60)");
        }
        let (target, described) = match (self.pattern, self.targets.as_slice()) {
            (Some(p), _) => {
                let sel = Selection::pattern(&p)?;
                (Target::Pattern(sel), format!("the pattern `{p}`"))
            }
            (None, [t]) => target_of(t, cwd),
            (None, []) => (Target::Folder(cwd.to_path_buf()), format!("the current folder {}", cwd.display())),
            (None, many) => {
                let (targets, described): (Vec<Target>, Vec<String>) = many.iter().map(|t| target_of(t, cwd)).unzip();
                (Target::Many(targets), described.join(", "))
            }
        };
        let colour = format == Format::Table
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(Cmd {
            target,
            spec,
            format,
            render: RenderOptions {
                max_width: self.max_width,
                max_rows: self.max_rows,
                colour,
                precision: if self.precision == 0 { None } else { Some(self.precision) },
                width: terminal_width(),
            },
            record_dump,
            use_index: !self.no_index,
            described,
        })
    }
}

/// Print `text` to stdout in one write; a closed pipe (`xmen list | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

/// Run `xmen list`.
pub fn run(args: Box<ListArgs>) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let cmd = args.validate(&cwd)?;
    let config_dir = xmen_record::config_dir();

    // An experiment folder: its record as the original printed it, or a one-row table for --csv/--json.
    let single = match &cmd.target {
        Target::Folder(dir) if dir.join("params.yml").is_file() => Some(dir.display().to_string()),
        Target::Pattern(_) | Target::Glob(_) | Target::Folder(_) | Target::Many(_) => None,
    };
    if let Some(folder) = &single {
        // With display flags or filters, the one run is a table row like any other.
        if cmd.record_dump && matches!(cmd.format, Format::Table | Format::Notebook) {
            let path = Path::new(folder).join("params.yml");
            let rec = Record::load(&path)?;
            emit(&format!("Content of {}\n{}", path.display(), core::show::record_text(&rec)))?;
            return Ok(ExitCode::SUCCESS);
        }
    }

    let config = GlobalConfig::load(&config_dir)?;
    let folders = match &single {
        Some(folder) => vec![Cow::Borrowed(folder.as_str())],
        None => folders_of(&cmd.target, &config.linked, &cwd),
    };
    if folders.is_empty() {
        let why = if config.linked.is_empty() {
            format!(
                "no experiments are linked in {}; register some with `xmen register` inside a set",
                config_dir.join(xmen_record::config::CONFIG_FILE).display()
            )
        } else {
            format!(
                "none of the {} linked experiments is in {}; try `xmen list /` for all of them",
                config.linked.len(),
                cmd.described
            )
        };
        return empty(&cmd, &why);
    }

    let index = cmd.use_index.then(|| config_dir.join("cache").join(core::index::INDEX_FILE));
    let mut listing = core::list(&folders, &config.linked, &cmd.spec, index.as_deref(), IndexOptions::default())?;
    let roots = match cmd.format {
        Format::Table => core::render::common_root(&listing.table),
        Format::Csv | Format::Json | Format::Notebook => None,
    };
    if let Some(prefix) = &roots {
        core::render::relative_roots(&mut listing.table, prefix);
    }
    let table = &listing.table;
    let unreadable: Vec<&str> = table.rows.iter().filter_map(|r| r.unreadable.as_deref()).collect();
    if !unreadable.is_empty() {
        eprintln!("warning: {} params.yml could not be read (rows marked {}):", unreadable.len(), core::UNREADABLE);
        for why in unreadable.iter().take(10) {
            eprintln!("  {why}");
        }
        if unreadable.len() > 10 {
            eprintln!("  ... and {} more", unreadable.len() - 10);
        }
    }
    if table.rows.is_empty() {
        let why = format!(
            "none of the {} experiments in {} passes the filters{}{}",
            listing.read,
            cmd.described,
            if cmd.spec.types.is_empty() { String::new() } else { format!(" and --type {}", cmd.spec.types.join(" ")) },
            filters_text(&cmd.spec)
        );
        return empty(&cmd, &why);
    }
    let text = match cmd.format {
        Format::Table => match &roots {
            Some(prefix) => format!("Roots relative to {}\n{}", tilde(prefix), core::render_text(table, &cmd.render)),
            None => core::render_text(table, &cmd.render),
        },
        Format::Csv => core::render_csv(table),
        Format::Json => core::render_json(table),
        Format::Notebook => core::render_notebook(table, cmd.render.max_rows),
    };
    emit(&text)?;
    // The process ends now: skip freeing 100,000 rows one by one.
    std::mem::forget(listing);
    Ok(ExitCode::SUCCESS)
}

/// A glob's `[` that is never closed matches itself (as in the shell and Python's fnmatch);
/// say so, since a typo is the likelier reason.
fn literal_bracket_hint(glob: &str) -> String {
    let mut open = None;
    for (i, c) in glob.chars().enumerate() {
        match c {
            '[' if open.is_none() => open = Some(i),
            ']' => open = None,
            _ => {}
        }
    }
    match open {
        Some(i) => format!(
            " (its `[` at character {} is never closed, so it matches a literal `[`; close it, e.g. `[0-9]`, or \
             escape it)",
            i + 1
        ),
        None => String::new(),
    }
}

fn filters_text(spec: &ListSpec) -> String {
    let conditions: Vec<String> =
        spec.filters.iter().filter(|f| f.condition().is_some()).map(|f| format!("`{f}`")).collect();
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" ({})", conditions.join(", "))
    }
}

/// An empty result (the original crashed): a message, and for JSON an empty array on stdout; the exit
/// code is 1, so scripts can tell that nothing matched.
fn empty(cmd: &Cmd, why: &str) -> anyhow::Result<ExitCode> {
    match cmd.format {
        Format::Json => {
            eprintln!("No experiments found: {why}.");
            emit("[]\n")?;
        }
        Format::Csv => eprintln!("No experiments found: {why}."),
        Format::Table | Format::Notebook => emit(&format!("No experiments found: {why}.\n"))?,
    }
    Ok(ExitCode::FAILURE)
}
