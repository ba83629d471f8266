//! The EarlyStop hook (the original's could not be constructed): stops the Monitor when the value its
//! spec matches has not improved for `memory` firings.
//!
//! Key design choice: the original's `EarlyStop` helper and its `EarlyStopper` hook (which
//! could not be constructed) become one plain value type, [`EarlyStop`], holding the window,
//! and a thin [`EarlyStopper`] hook that feeds it one value per firing, tagged with the
//! Monitor's counters, and asks the Monitor to stop with the original's message,
//! `----- EarlyStop(True, memory=5, condition='max', best=0.93, count=12, tags={'epoch': 7}) ----`.
//!
//! ```yaml
//! _hooks:
//!   - {hook: early-stop, spec: "val_acc@1e", options: {condition: max, memory: 5}}
//! ```

use std::collections::VecDeque;
use std::fmt;

use xmen_hook::pyfmt::repr_of;
use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Spec, Trigger, Value};

/// Which direction is an improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Larger values are better (accuracy).
    Max,
    /// Smaller values are better (loss).
    Min,
}

impl Condition {
    /// `max` or `min`.
    pub fn name(self) -> &'static str {
        match self {
            Condition::Max => "max",
            Condition::Min => "min",
        }
    }

    /// Whether `a` is at least as good as `b`. NaN is worse than every number.
    fn at_least_as_good(self, a: f64, b: f64) -> bool {
        match (a.is_nan(), b.is_nan()) {
            (_, true) => true,
            (true, false) => false,
            _ => match self {
                Condition::Max => a >= b,
                Condition::Min => a <= b,
            },
        }
    }
}

impl std::str::FromStr for Condition {
    type Err = HookError;
    fn from_str(s: &str) -> Result<Condition, HookError> {
        match s {
            "max" => Ok(Condition::Max),
            "min" => Ok(Condition::Min),
            other => Err(HookError::new(format!("option \"condition\" must be max or min, not {other:?}"))
                .with_help("write `options: {condition: min}` for a loss, `max` for an accuracy")),
        }
    }
}

/// The original's `EarlyStop(condition, memory)` helper: a window of the last `memory + 1`
/// values whose truth value ([`EarlyStop::stop`]) says that the oldest of them is at least as
/// good as every later one, i.e. that `memory` appends brought no improvement.
///
/// ```
/// use xmen_hook_early_stop::{Condition, EarlyStop};
/// let mut es = EarlyStop::new(Condition::Min, 2);
/// for loss in [0.9, 0.5, 0.6, 0.7] {
///     es.append(loss, Vec::new());
/// }
/// assert!(es.stop());
/// assert_eq!(es.to_string(), "EarlyStop(True, memory=2, condition='min', best=0.5, count=4, tags={})");
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStop {
    condition: Condition,
    memory: usize,
    window: VecDeque<f64>,
    count: u64,
    best: Option<(f64, Vec<(String, Value)>)>,
}

impl EarlyStop {
    /// An empty window. `memory` is the number of appends without improvement that stops.
    pub fn new(condition: Condition, memory: usize) -> EarlyStop {
        EarlyStop { condition, memory, window: VecDeque::with_capacity(memory + 1), count: 0, best: None }
    }

    /// Push a value, with tags (the counters when it was seen) kept for the best value.
    pub fn append(&mut self, value: f64, tags: Vec<(String, Value)>) {
        if self.window.len() == self.memory + 1 {
            self.window.pop_front();
        }
        self.window.push_back(value);
        self.count += 1;
        let improved = match &self.best {
            None => true,
            Some((best, _)) => !self.condition.at_least_as_good(*best, value),
        };
        if improved {
            self.best = Some((value, tags));
        }
    }

    /// True when the window is full and its oldest value is at least as good as every other:
    /// no improvement for `memory` appends.
    pub fn stop(&self) -> bool {
        let mut values = self.window.iter();
        match values.next() {
            Some(&oldest) if self.window.len() == self.memory + 1 => {
                values.all(|&v| self.condition.at_least_as_good(oldest, v))
            }
            _ => false,
        }
    }

    /// The best value appended so far.
    pub fn best(&self) -> Option<f64> {
        self.best.as_ref().map(|(v, _)| *v)
    }

    /// How many values were appended.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl fmt::Display for EarlyStop {
    /// `EarlyStop({bool}, memory=…, condition=…, best=…, count=…, tags=…)`, values as Python's `repr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (best, tags) = match &self.best {
            Some((v, t)) => (repr_of(&Value::Float(*v)), repr_of(&Value::Map(t.clone()))),
            None => ("None".to_owned(), "{}".to_owned()),
        };
        write!(
            f,
            "EarlyStop({}, memory={}, condition={}, best={best}, count={}, tags={tags})",
            if self.stop() { "True" } else { "False" },
            self.memory,
            repr_of(&Value::Str(self.condition.name().to_owned())),
            self.count
        )
    }
}

/// The hook: appends the matched value at each firing and stops the Monitor once
/// [`EarlyStop::stop`] holds, logging `----- {EarlyStop(...)} ----`.
pub struct EarlyStopper {
    state: EarlyStop,
    variable: Option<String>,
}

impl EarlyStopper {
    /// The window this hook fills.
    pub fn state(&self) -> &EarlyStop {
        &self.state
    }
}

impl Hook for EarlyStopper {
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {
        let (name, value) = match &self.variable {
            Some(v) => match firing.get(v) {
                Some(value) => (v.as_str(), value),
                None => return Ok(Outcome::Continue),
            },
            None => {
                let mut vars = firing.vars();
                let Some(first) = vars.next() else { return Ok(Outcome::Continue) };
                if let Some(second) = vars.next() {
                    return Err(HookError::new(format!(
                        "the spec matched several variables ({}, {}, ...); which one decides?",
                        first.0, second.0
                    ))
                    .with_help(format!("set `options: {{variable: {}}}` or narrow the spec's regex", first.0)));
                }
                first
            }
        };
        let value = value.as_f64().ok_or_else(|| {
            HookError::new(format!("variable {name:?} is a {}, not a number", value.kind()))
                .with_help("early-stop compares numbers: publish the metric as an int or a float")
        })?;
        let counters = firing.counters();
        let tags = Trigger::ALL
            .iter()
            .filter(|t| counters[t.index()] > 0)
            .map(|t| (t.name().to_owned(), Value::Int(i64::try_from(counters[t.index()]).unwrap_or(i64::MAX))))
            .collect();
        self.state.append(value, tags);
        if self.state.stop() {
            return Ok(Outcome::Stop(format!("----- {} ----", self.state)));
        }
        Ok(Outcome::Continue)
    }
}

impl NewHook for EarlyStopper {
    const NAME: &'static str = "early-stop";
    const HELP: &'static str = "Stop the Monitor when the matched value has not improved for `memory` firings";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("condition", "str", "max (larger is better) or min (smaller is better)").default("max"),
        OptionDecl::new("memory", "int", "firings without improvement that stop the Monitor").default("5"),
        OptionDecl::new("variable", "str", "the matched variable that decides, when the spec matches several"),
    ];

    const EXAMPLES: &'static [&'static str] = &["val_acc@1e", "loss@100s"];

    fn new(spec: &Spec, options: &Options<'_>) -> Result<EarlyStopper, HookError> {
        options.expect_only(&["condition", "memory", "variable"])?;
        if spec.is_manual() {
            return Err(HookError::new(format!("spec {spec} has no `@N{{trigger}}`; early-stop needs a modulo spec"))
                .with_help("write e.g. `val_acc@1e` to check once per epoch"));
        }
        let condition = options.str("condition")?.unwrap_or("max").parse()?;
        let memory = options.i64("memory")?.unwrap_or(5);
        let memory = usize::try_from(memory).ok().filter(|&m| m >= 1).ok_or_else(|| {
            HookError::new(format!("option \"memory\" must be a positive integer, not {memory}"))
                .with_help("write e.g. `options: {memory: 5}`")
        })?;
        Ok(EarlyStopper {
            state: EarlyStop::new(condition, memory),
            variable: options.str("variable")?.map(str::to_owned),
        })
    }
}

xmen_hook::export_hooks!(EarlyStopper);

#[cfg(test)]
mod harness_tests {
    use super::*;
    use xmen_hook::testing::Harness;

    #[test]
    fn a_value_that_stops_improving_stops_the_run_after_memory_firings() -> Result<(), HookError> {
        let options = [("condition", Value::from("min")), ("memory", Value::Int(2))];
        let mut h = Harness::<EarlyStopper>::new("loss@1e", &options)?;
        let mut outcomes = Vec::new();
        for (epoch, loss) in [(1, 0.5), (2, 0.4), (3, 0.45), (4, 0.41)] {
            h.counters([epoch * 10, epoch, 0, 0, 0]);
            outcomes.push(h.fire(&[("loss", Value::Float(loss))])?);
        }
        assert_eq!(&outcomes[..3], [Outcome::Continue, Outcome::Continue, Outcome::Continue]);
        assert!(matches!(&outcomes[3], Outcome::Stop(m) if m.starts_with("----- ")), "{outcomes:?}");
        Ok(())
    }

    #[test]
    fn misconfigurations_are_refused_with_the_fix() {
        let err = |spec: &str, options: &[(&str, Value)]| {
            Harness::<EarlyStopper>::new(spec, options)
                .err()
                .map(|e| format!("{} | {}", e.message, e.help.unwrap_or_default()))
        };
        let manual = err("loss", &[]).unwrap_or_default();
        assert!(manual.contains("early-stop needs a modulo spec | write e.g. `val_acc@1e`"), "{manual}");
        let memory = err("loss@1e", &[("memory", Value::Int(0))]).unwrap_or_default();
        assert!(memory.starts_with("option \"memory\" must be a positive integer, not 0"), "{memory}");
        let mut h = Harness::<EarlyStopper>::new("l@1e", &[]).expect("defaults are valid");
        let two = h.fire(&[("loss", Value::Float(1.0)), ("lr", Value::Float(0.1))]).err().map(|e| e.message);
        assert_eq!(two.as_deref(), Some("the spec matched several variables (loss, lr, ...); which one decides?"));
    }
}
