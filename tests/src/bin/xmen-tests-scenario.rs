//! Runs one monitored loop in its own process, so an integration test can read every
//! byte it prints on stdout and stderr (a test binary's own output is shared and captured).
//!
//! Usage: `xmen-tests-scenario <scenario> <hook folder>...`, with the scenarios
//! - `library-panic`: the `panicky` fixture library and the real logger library, both at
//!   `x@1s`, from a `_hooks` list;
//! - `in-process-panic`: the same with an in-process hook given with `.hook_at(...)`
//!   in place of the library;
//! - `library-drop-panic`: the `drop-panic` fixture (its `Drop` panics with an integer
//!   payload) and the real logger, so the panic happens when the Monitor closes it;
//! - `library-call-and-drop-panic`: the same, with the fixture's first call panicking too, so
//!   the disabled hook is dropped without being closed.
//!
//! After the loop it prints `steps <n>` and one `calls <name> <calls> <disabled>` line per hook.

use std::path::PathBuf;
use std::process::ExitCode;
use xmen::hooks::{HookConfig, Loader, SearchPath};
use xmen::{Firing, Hook, HookResult, Monitor, Outcome};

/// An in-process hook that panics on its third call.
struct Panicky {
    calls: u64,
}

impl Hook for Panicky {
    fn call(&mut self, _firing: &Firing<'_>) -> HookResult {
        self.calls += 1;
        if self.calls == 3 {
            panic!("in-process panicky: deliberate panic on call {}", self.calls);
        }
        Ok(Outcome::Continue)
    }
}

fn run(scenario: &str, dirs: Vec<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let builder = Monitor::builder().loader(Loader::new(SearchPath::new(dirs)));
    let builder = match scenario {
        "library-panic" => builder.hooks([HookConfig::new("panicky", "x@1s"), HookConfig::new("logger", "x@1s")]),
        "in-process-panic" => builder.hook_at("x@1s", Panicky { calls: 0 }).hooks([HookConfig::new("logger", "x@1s")]),
        "library-drop-panic" => {
            builder.hooks([HookConfig::new("drop-panic", "x@1s"), HookConfig::new("logger", "x@1s")])
        }
        "library-call-and-drop-panic" => builder.hooks([
            HookConfig::new("drop-panic", "x@1s").option("call_panics", true),
            HookConfig::new("logger", "x@1s"),
        ]),
        other => return Err(format!("unknown scenario {other:?}; use library-panic, in-process-panic, library-drop-panic or library-call-and-drop-panic").into()),
    };
    let m = builder.build()?;
    for _ in m.iter(0..2) {
        for i in m.iter(0..3) {
            m.set("x", i);
        }
    }
    println!("steps {}", m.step());
    for (name, _spec, calls, disabled) in m.hook_calls() {
        println!("calls {name} {calls} {disabled}");
    }
    drop(m);
    println!("after the Monitor");
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_default();
    match run(&scenario, args.map(PathBuf::from).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
