//! [`RegisterTemplate`]: the params.yml of many experiments registered from one record.
//!
//! A sweep registers hundreds of experiments that differ from one record only in `_root`,
//! `_timestamps` and the parameters (or `_hooks`) the sweep sets. Each top-level entry of
//! the manager layout is written independently of the others (see
//! [`yaml::write_top_entry`]), so the template writes every other entry once and each
//! experiment's params.yml is those texts joined around the few entries that change: what
//! [`Record::to_manager_yaml`] writes for the same record, byte for byte, at a fraction of
//! the cost (the record is neither cloned nor walked again).

use xmen_core::Value;

use crate::error::Result;
use crate::record::{manager_help, Record, Timestamps, HOOKS_HELP, HOOKS_KEY, SPECIALS};
use crate::yaml::{self, TopEntry};

/// What one top-level entry of the template shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// `_root`: each experiment's own (always the first entry).
    Root,
    /// `_timestamps`: each experiment's own.
    Timestamps,
    /// `_hooks`: the record's, unless the experiment sets it (no text when the record has none).
    Hooks,
    /// Parameter `i`: the record's value, unless the experiment sets it.
    Param(usize),
    /// The same in every experiment.
    Fixed,
}

/// The params.yml of experiments registered from one record (the manager layout): see the
/// module docs.
///
/// ```
/// use xmen_core::Value;
/// use xmen_record::{Param, Record, RegisterTemplate, Timestamps};
///
/// let base = Record::new(vec![Param::new("lr", 0.001, "lr: float=0.001 ~ The learning rate")]);
/// let template = RegisterTemplate::new(&base).unwrap();
/// let text = template.render("/exps/lr=0.1", &Timestamps::default(), &[(Some(0), Value::Float(0.1))]).unwrap();
///
/// let mut same = base.clone();
/// same.root = Some("/exps/lr=0.1".into());
/// same.params[0].value = Value::Float(0.1);
/// assert_eq!(text, same.to_manager_yaml().unwrap());
/// ```
#[derive(Debug)]
pub struct RegisterTemplate<'a> {
    base: &'a Record,
    /// Every entry in the manager's order, with its text where it is written once.
    pieces: Vec<(Slot, String)>,
    /// The length of the texts written once.
    fixed_len: usize,
    /// The help comments of `_root`, `_timestamps` and `_hooks`.
    root_help: &'static str,
    timestamps_help: &'static str,
    hooks_help: &'static str,
}

fn write(out: &mut String, key: &str, value: &Value, comment: &str, first: bool) -> Result<()> {
    yaml::write_top_entry(out, &TopEntry { key, value, comment: Some(comment) }, first)
}

fn text_of(key: &str, value: &Value, comment: &str) -> Result<String> {
    let mut out = String::new();
    write(&mut out, key, value, comment, false)?;
    Ok(out)
}

impl<'a> RegisterTemplate<'a> {
    /// Write every entry of `base` that does not change from experiment to experiment.
    pub fn new(base: &'a Record) -> Result<RegisterTemplate<'a>> {
        let mut pieces = Vec::with_capacity(SPECIALS.len() + 1 + base.extra.len() + base.params.len());
        let (mut root_help, mut timestamps_help) = ("", "");
        for (name, help) in SPECIALS {
            pieces.push(match name {
                // `_root` comes first: the only entry written with `first` set.
                "_root" => {
                    root_help = manager_help(help);
                    (Slot::Root, String::new())
                }
                "_timestamps" => {
                    timestamps_help = manager_help(help);
                    (Slot::Timestamps, String::new())
                }
                _ => {
                    let value = base.special_value(name).unwrap_or(std::borrow::Cow::Owned(Value::None));
                    (Slot::Fixed, text_of(name, &value, manager_help(help))?)
                }
            });
        }
        let hooks = match &base.hooks {
            Some(h) => text_of(HOOKS_KEY, h, manager_help(HOOKS_HELP))?,
            None => String::new(),
        };
        pieces.push((Slot::Hooks, hooks));
        for e in &base.extra {
            pieces.push((Slot::Fixed, text_of(&e.key, &e.value, &e.comment)?));
        }
        for (i, p) in base.params.iter().enumerate() {
            pieces.push((Slot::Param(i), text_of(&p.name, &p.value, &p.help)?));
        }
        let fixed_len = pieces.iter().map(|(_, t)| t.len()).sum();
        let hooks_help = manager_help(HOOKS_HELP);
        Ok(RegisterTemplate { base, pieces, fixed_len, root_help, timestamps_help, hooks_help })
    }

    /// The params.yml of the record with `_root` set to `root`, `_timestamps` to `timestamps`
    /// and the values in `set`: `(Some(i), v)` sets parameter `i` (its index in the record's
    /// `params`), `(None, v)` sets `_hooks`; the last of two for the same entry wins. The record's own root and timestamps are not
    /// used; an index past the parameters is ignored.
    pub fn render(&self, root: &str, timestamps: &Timestamps, set: &[(Option<usize>, Value)]) -> Result<String> {
        let mut out = String::with_capacity(self.fixed_len + 2 * root.len() + 256);
        let given = |slot: Option<usize>| set.iter().rev().find(|(s, _)| *s == slot).map(|(_, v)| v);
        for (slot, text) in &self.pieces {
            match *slot {
                Slot::Root => write(&mut out, "_root", &Value::Str(root.to_owned()), self.root_help, true)?,
                Slot::Timestamps => {
                    write(&mut out, "_timestamps", &timestamps.to_value(), self.timestamps_help, false)?
                }
                Slot::Hooks => match given(None) {
                    Some(v) => write(&mut out, HOOKS_KEY, v, self.hooks_help, false)?,
                    None => out.push_str(text),
                },
                Slot::Param(i) => match given(Some(i)) {
                    Some(v) => {
                        let p = &self.base.params[i];
                        write(&mut out, &p.name, v, &p.help, false)?
                    }
                    None => out.push_str(text),
                },
                Slot::Fixed => out.push_str(text),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = "_created: 8/2/2021
_version:
  path: /bin/true
  git: {commit: abc, local: /x}
_meta: {mac: '0x1', host: vm}
_purpose: something
_notes: [a, 'b: c']
_custom: {k: [1, 2]} # a key the record does not know
lr: 0.001 # lr: float=0.001 ~ The learning rate
epochs: 10 # epochs: int=10 ~ Passes over the data
name: dog # name: str='dog' ~ A name: with a colon
empty: # empty: Optional[str]=None
text: 'yes' # text: str='yes' ~ Looks like a bool
opt: # opt: dict ~ Optimiser options
  beta: 0.9
  eps: 1.0e-08
  inner: {deep: [x, {y: 1}]}
sizes: [3, 4]
";

    fn base(hooks: bool) -> Record {
        let mut r = Record::from_yaml_str(DEFAULTS).unwrap();
        r.layout = crate::Layout::Manager;
        if hooks {
            r.hooks = Some(Value::List(vec![Value::Map(vec![("name".into(), Value::Str("logger".into()))])]));
        }
        r
    }

    #[test]
    fn the_template_writes_what_the_record_writes_byte_for_byte() {
        let values = [
            Value::Float(0.1),
            Value::Int(3),
            Value::Str("a b: c # d".into()),
            Value::None,
            Value::Str("yes".into()),
            Value::Map(vec![("beta".into(), Value::Float(0.5)), ("new".into(), Value::List(vec![]))]),
            Value::List(vec![Value::Int(1), Value::Str("x\ny".into())]),
        ];
        let hooks = Value::List(vec![Value::Map(vec![("name".into(), Value::Str("timer".into()))])]);
        let stamps = Timestamps {
            created: Some("26-12-03-08-39-44-871049".into()),
            registered: Some("26-12-03-08-39-44-871050".into()),
            ..Timestamps::default()
        };
        let mut checked = 0;
        for with_hooks in [false, true] {
            let base = base(with_hooks);
            let template = RegisterTemplate::new(&base).unwrap();
            let n = base.params.len();
            // Nothing set, each parameter set to each value, two at once, and `_hooks`.
            let mut cases: Vec<Vec<(Option<usize>, Value)>> = vec![vec![]];
            for i in 0..n {
                for v in &values {
                    cases.push(vec![(Some(i), v.clone())]);
                    cases.push(vec![
                        (Some(i), v.clone()),
                        (Some((i + 3) % n), values[0].clone()),
                        (None, hooks.clone()),
                    ]);
                }
            }
            for root in ["/exps/lr=0.1__epochs=3", "/with space/and: colon", "/ünï/'quote'"] {
                for set in &cases {
                    let mut want = base.clone();
                    want.root = Some(root.to_owned());
                    want.timestamps = stamps.clone();
                    for (slot, v) in set {
                        match slot {
                            Some(i) => want.params[*i].value = v.clone(),
                            None => want.hooks = Some(v.clone()),
                        }
                    }
                    let got = template.render(root, &stamps, set).unwrap();
                    assert_eq!(got, want.to_manager_yaml().unwrap(), "root {root:?}, set {set:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked}");
    }
}
