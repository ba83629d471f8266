//! `jsonl`: a third-party xmen hook that appends the variables its spec matches to a JSON-lines
//! file, one object per firing, with the Monitor's counters:
//!
//! ```text
//! {"step": 20, "epoch": 2, "loss": 0.25, "acc": 0.875}
//! ```
//!
//! Use it from defaults.yml (or `xmen register -u "{_hooks: [...]}"`):
//!
//! ```yaml
//! _hooks:
//!   - {hook: jsonl, spec: "loss|acc@1e", options: {path: metrics.jsonl}}
//! ```
//!
//! A relative `path` is taken in the run's folder (option `directory`, which xmen fills in for
//! hooks that declare it) or else in the current folder.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use xmen_hook::{
    Firing, Hook, HookError, HookResult, Host, NewHook, OptionDecl, Options, Outcome, RunEnd, Spec, Trigger, ValueRef,
};

/// Appends one JSON object per firing.
pub struct JsonLines {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    line: String,
}

impl JsonLines {
    /// A writer to `path` (opened, in append mode, at the first firing).
    pub fn new(path: impl Into<PathBuf>) -> JsonLines {
        JsonLines { path: path.into(), file: None, line: String::new() }
    }

    fn file(&mut self) -> Result<&mut BufWriter<File>, HookError> {
        if self.file.is_none() {
            let f = OpenOptions::new().create(true).append(true).open(&self.path).map_err(|e| {
                HookError::new(format!("cannot open {}: {e}", self.path.display()))
                    .with_help("check option `path` and that its folder exists")
            })?;
            self.file = Some(BufWriter::new(f));
        }
        self.file.as_mut().ok_or_else(|| HookError::new("the metrics file is not open"))
    }
}

/// Write `s` as a JSON string.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Write a value as JSON: numbers, booleans and strings as themselves, lists and maps as
/// arrays and objects, anything else (tensors, images, handles) as its text.
fn json_value(out: &mut String, v: ValueRef<'_>) {
    match v {
        ValueRef::None => out.push_str("null"),
        ValueRef::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        ValueRef::Int(i) => out.push_str(&i.to_string()),
        ValueRef::Float(f) if f.is_finite() => out.push_str(&format!("{f:?}")),
        ValueRef::Float(_) => out.push_str("null"),
        ValueRef::Str(s) => json_str(out, s),
        ValueRef::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_value(out, item);
            }
            out.push(']');
        }
        ValueRef::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_str(out, k);
                out.push_str(": ");
                json_value(out, item);
            }
            out.push('}');
        }
        other => json_str(out, &other.to_string()),
    }
}

impl Hook for JsonLines {
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push('{');
        let counters = firing.counters();
        let mut first = true;
        for t in Trigger::ALL {
            if counters[t.index()] > 0 {
                if !first {
                    line.push_str(", ");
                }
                first = false;
                json_str(&mut line, t.name());
                line.push_str(&format!(": {}", counters[t.index()]));
            }
        }
        for (name, v) in firing.vars() {
            if !first {
                line.push_str(", ");
            }
            first = false;
            json_str(&mut line, name);
            line.push_str(": ");
            json_value(&mut line, v);
        }
        line.push_str("}\n");
        let path = self.path.clone();
        let result = self.file().and_then(|f| {
            f.write_all(line.as_bytes())
                .and_then(|_| f.flush())
                .map_err(|e| HookError::new(format!("cannot write {}: {e}", path.display())))
        });
        self.line = line;
        result.map(|_| Outcome::Continue)
    }

    fn close(&mut self, _end: &RunEnd, _host: &dyn Host) -> HookResult {
        if let Some(f) = self.file.as_mut() {
            f.flush().map_err(|e| HookError::new(format!("cannot flush {}: {e}", self.path.display())))?;
        }
        Ok(Outcome::Continue)
    }
}

impl NewHook for JsonLines {
    const NAME: &'static str = "jsonl";
    const HELP: &'static str =
        "Append the matched variables and the counters to a JSON-lines file, one object per firing";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("path", "str", "the file to append to; relative paths are taken in `directory`")
            .default("metrics.jsonl"),
        OptionDecl::new("directory", "str", "the run's folder (filled in by xmen)"),
    ];

    const EXAMPLES: &'static [&'static str] = &["loss|acc@1e", "@10s"];

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<JsonLines, HookError> {
        options.expect_only(&["path", "directory"])?;
        let path = PathBuf::from(options.str("path")?.unwrap_or("metrics.jsonl"));
        let path = match options.str("directory")? {
            Some(dir) if path.is_relative() => PathBuf::from(dir).join(path),
            _ => path,
        };
        Ok(JsonLines::new(path))
    }
}

xmen_hook::export_hooks!(JsonLines);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_json() {
        let v = xmen_hook::Value::Map(vec![
            ("a".into(), xmen_hook::Value::from(1.5)),
            ("b".into(), xmen_hook::Value::List(vec![xmen_hook::Value::from(1), xmen_hook::Value::from("x\"y")])),
            ("c".into(), xmen_hook::Value::Float(f64::NAN)),
        ]);
        let mut out = String::new();
        json_value(&mut out, ValueRef::from(&v));
        assert_eq!(out, r#"{"a": 1.5, "b": [1, "x\"y"], "c": null}"#);
    }

    #[test]
    fn each_firing_appends_one_json_line_to_the_file_in_the_run_folder() -> Result<(), HookError> {
        let dir = std::env::temp_dir().join(format!("xmen-hook-jsonl-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| HookError::new(e.to_string()))?;
        let options = [("directory", xmen_hook::Value::from(dir.display().to_string()))];
        let mut h = xmen_hook::testing::Harness::<JsonLines>::new("loss@1s", &options)?;
        h.fire(&[("loss", xmen_hook::Value::from(0.5))])?;
        h.counters([2, 0, 0, 0, 0]).fire(&[("loss", xmen_hook::Value::from(0.25))])?;
        h.close(&xmen_hook::RunEnd::finished())?;
        let text = std::fs::read_to_string(dir.join("metrics.jsonl")).map_err(|e| HookError::new(e.to_string()));
        let _ = std::fs::remove_dir_all(&dir);
        let lines: Vec<String> = text?.lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains(r#""loss": 0.5"#) && lines[1].contains(r#""loss": 0.25"#), "{lines:?}");
        Ok(())
    }
}
