//! `xmen hooks cost RUN...`: what each hook entry cost a run's training thread, read from the
//! `_hooks_cost` its params.yml holds (written when the run ended; see
//! `xmen_record::hookscost`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use xmen_record::hookscost::{self, HookCostEntry};
use xmen_record::Record;

/// The arguments of `xmen hooks cost`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen hooks cost sweep/lr=0.1      one run's table\n  \
xmen hooks cost sweep/*            every run of a set (the shell expands the glob)")]
pub struct CostArgs {
    /// Experiment folders (or their params.yml).
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
}

/// The params.yml of a run argument.
fn params_of(run: &Path) -> PathBuf {
    if run.is_dir() {
        run.join("params.yml")
    } else {
        run.to_path_buf()
    }
}

/// `1.23 ms`: a duration in seconds with a unit that keeps three significant digits.
pub fn human(secs: f64) -> String {
    if secs == 0.0 {
        return "0".to_owned();
    }
    let (v, unit) = match secs.abs() {
        s if s < 1e-6 => (secs * 1e9, "ns"),
        s if s < 1e-3 => (secs * 1e6, "µs"),
        s if s < 1.0 => (secs * 1e3, "ms"),
        _ => (secs, "s"),
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// The table of one run's entries.
pub fn table(entries: &[HookCostEntry]) -> String {
    let header = ["hook", "spec", "firings", "total", "share", "max", "p50", "p99", "close"];
    let rows: Vec<[String; 9]> = entries
        .iter()
        .map(|e| {
            [
                e.key.clone(),
                e.spec.clone(),
                e.firings.to_string(),
                human(e.total),
                format!("{:.3}%", e.share * 100.0),
                human(e.max),
                human(e.p50),
                human(e.p99),
                human(e.close),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            // Text left, numbers right.
            let pad = w - c.chars().count();
            if i < 2 {
                let _ = write!(l, "{c}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(l, "{}{c}  ", " ".repeat(pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned));
    for r in &rows {
        line(r);
    }
    out
}

/// Print the cost table of each run; exits 1 if a run has no `_hooks_cost` (not run yet, or
/// run by a version of xmen that did not measure it).
pub fn run(args: &CostArgs) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    let mut missing = false;
    for run in &args.runs {
        let path = params_of(run);
        let rec = Record::load(&path).with_context(|| format!("cannot read the record of {}", run.display()))?;
        let entries = hookscost::of(&rec);
        let _ = writeln!(out, "{} ({})", run.display(), rec.status);
        if entries.is_empty() {
            missing = true;
            let _ = writeln!(
                out,
                "  no `_hooks_cost` in {}: the run has not ended yet, had no hooks, or was run by an xmen \
                 that did not measure them",
                path.display()
            );
            continue;
        }
        // share = total / wall, so any entry that fired gives the wall time.
        let wall = entries.iter().find(|e| e.share > 0.0).map(|e| e.total / e.share);
        let total: f64 = entries.iter().map(|e| e.total).sum();
        out.push_str(&table(&entries));
        match wall {
            Some(w) => {
                let _ =
                    writeln!(out, "all hooks: {} of {} wall time ({:.3}%)", human(total), human(w), total / w * 100.0);
            }
            None => {
                let _ = writeln!(out, "all hooks: {}", human(total));
            }
        }
    }
    print!("{out}");
    Ok(if missing { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_three_significant_digits() {
        let table = [(0.0, "0"), (3.2e-8, "32.0 ns"), (1.234e-4, "123 µs"), (0.01234, "12.3 ms"), (2.5, "2.50 s")];
        for (secs, want) in table {
            assert_eq!(human(secs), want);
        }
    }

    #[test]
    fn the_table_aligns_text_left_and_numbers_right() {
        let e = HookCostEntry {
            key: "logger".into(),
            hook: "logger".into(),
            spec: "loss@100s".into(),
            firings: 30,
            total: 0.0015,
            share: 0.0003,
            max: 1e-4,
            p50: 5e-5,
            p99: 9e-5,
            close: 0.0,
        };
        let t = table(&[e]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "hook    spec       firings    total   share     max      p50      p99  close");
        assert_eq!(lines[1], "logger  loss@100s       30  1.50 ms  0.030%  100 µs  50.0 µs  90.0 µs      0");
    }
}
