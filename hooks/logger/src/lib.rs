//! The Logger hook: prints `[{last} {levels}]: name = value ...` for the
//! variables its spec matches.
//!
//! Unlike the original it prints the full value (`cat|dog`, not `cat|do`) and
//! applies the format to the raw value, not to its text. Options: `format` (a Python format spec
//! such as `.4f`) and `join` (a separator for list values, the usual `log_fn`).

use std::fmt::Write as _;
use xmen_hook::pyfmt::FormatSpec;
use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Spec, Value, ValueRef};

/// Prints matched variables.
pub struct Logger {
    format: FormatSpec,
    join: Option<String>,
    line: String,
}

impl Logger {
    /// A logger with a format spec and an optional list separator.
    pub fn new(format: &str, join: Option<&str>) -> Result<Logger, HookError> {
        let format = format.parse::<FormatSpec>().map_err(|e| {
            HookError::new(format!("option \"format\": {e}")).with_help("use a Python format spec such as \".4f\"")
        })?;
        Ok(Logger { format, join: join.map(str::to_owned), line: String::new() })
    }

    fn write_value(&self, out: &mut String, name: &str, v: ValueRef<'_>) -> Result<(), HookError> {
        let fail = |e: xmen_hook::pyfmt::FormatValueError| HookError::new(format!("variable {name:?}: {e}"));
        match (v, &self.join) {
            (ValueRef::List(items), Some(sep)) => {
                let mut joined = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        joined.push_str(sep);
                    }
                    let _ = item.write_str(&mut joined);
                }
                self.format.write(out, &Value::Str(joined)).map_err(fail)
            }
            _ if self.format.is_empty() => {
                let _ = v.write_str(out);
                Ok(())
            }
            (ValueRef::Float(f), _) => self.format.write(out, &Value::Float(f)).map_err(fail),
            (ValueRef::Int(i), _) => self.format.write(out, &Value::Int(i)).map_err(fail),
            (ValueRef::Bool(b), _) => self.format.write(out, &Value::Bool(b)).map_err(fail),
            _ => self.format.write(out, &v.to_value()).map_err(fail),
        }
    }
}

impl Hook for Logger {
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let mut result = Ok(());
        for (name, v) in firing.vars() {
            if !line.is_empty() {
                line.push(' ');
            }
            let _ = write!(line, "{name} = ");
            if let Err(e) = self.write_value(&mut line, name, v) {
                result = Err(e);
                line.push('?');
            }
        }
        firing.log(&line);
        self.line = line;
        result.map(|_| Outcome::Continue)
    }
}

impl NewHook for Logger {
    const NAME: &'static str = "logger";
    const HELP: &'static str = "Print matched variables: [time levels]: name = value";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("format", "str", "Python format spec applied to each value, e.g. \".4f\"").default("''"),
        OptionDecl::new("join", "str", "join list values with this separator, e.g. \"|\""),
    ];

    const EXAMPLES: &'static [&'static str] = &["loss|acc@100s", "x@2s"];

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<Logger, HookError> {
        options.expect_only(&["format", "join"])?;
        Logger::new(options.str("format")?.unwrap_or(""), options.str("join")?)
    }
}

xmen_hook::export_hooks!(Logger);

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_hook::testing::Harness;

    /// Options, variables, and the line logged.
    type Case<'a> = (&'a [(&'a str, Value)], &'a [(&'a str, Value)], &'a str);

    #[test]
    fn values_are_formatted_and_lists_joined_as_configured() -> Result<(), HookError> {
        let table: [Case<'_>; 4] = [
            (&[], &[("loss", Value::Float(0.25)), ("n", Value::Int(3))], "loss = 0.25 n = 3"),
            (&[("format", Value::from(".3f"))], &[("loss", Value::Float(0.25))], "loss = 0.250"),
            (
                &[("join", Value::from("|"))],
                &[("tags", Value::List(vec![Value::from("cat"), Value::from("dog")]))],
                "tags = cat|dog",
            ),
            (&[("format", Value::from(">6"))], &[("s", Value::from("ab"))], "s =     ab"),
        ];
        for (options, vars, want) in table {
            let mut h = Harness::<Logger>::new("x@1s", options)?;
            assert_eq!(h.fire_ok(vars)?, [want], "{options:?}");
        }
        Ok(())
    }

    #[test]
    fn bad_options_and_unformattable_values_are_errors_that_say_which() {
        let e = Harness::<Logger>::new("x@1s", &[("fromat", Value::from(".3f"))]).err();
        assert_eq!(e.map(|e| e.message), Some("unknown option \"fromat\"".to_owned()));
        let e = Harness::<Logger>::new("x@1s", &[("format", Value::from(".3q"))]).err();
        assert!(e.is_some_and(|e| e.message.starts_with("option \"format\": ")));
        let mut h = Harness::<Logger>::new("x@1s", &[("format", Value::from(".2f"))]).expect("a valid format");
        let e = h.fire(&[("s", Value::from("text"))]).err();
        assert!(e.is_some_and(|e| e.message.starts_with("variable \"s\": ")));
        // The line is still logged, with `?` for the value that failed.
        assert_eq!(h.logged(), ["s = ?"]);
    }
}
