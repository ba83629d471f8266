//! Which variables a checkpoint saves, and under what names (shared by the Checkpointer
//! hook and `Monitor::checkpoint`, so both expand and warn alike).

use xmen_core::value::{StateDict, StateHandle};
use xmen_core::valueref::{MapRef, ValueRef};

/// What a checkpoint does with one variable (after expansion).
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A `Tracked` (the SDK's) object: the host hands over its state.
    State(StateHandle),
    /// A map whose values are all tensors: it is a state dict itself.
    Tensors(StateDict),
    /// Anything else: nothing to save (the original's `does not have a state_dict`).
    NoState(&'static str),
}

/// The type recorded for a map of tensors saved as is.
pub const TENSOR_MAP_TYPE: &str = "map of tensors";

fn tensor_map(m: MapRef<'_>) -> Option<StateDict> {
    if m.is_empty() {
        return None;
    }
    let mut tensors = Vec::with_capacity(m.len());
    for (k, v) in m.iter() {
        match v {
            ValueRef::Tensor(t) => tensors.push((k.to_owned(), t.to_tensor())),
            _ => return None,
        }
    }
    Some(StateDict { tensors, metadata: Vec::new() })
}

fn classify(v: ValueRef<'_>) -> Item {
    match v {
        ValueRef::State(h) => Item::State(h),
        ValueRef::Map(m) => match tensor_map(m) {
            Some(sd) => Item::Tensors(sd),
            None => Item::NoState("map"),
        },
        other => Item::NoState(other.kind()),
    }
}

/// The items of one variable. With `expand`, a map that is not a map of tensors becomes one
/// item per entry, named `{name}_{key}`.
///
/// ```
/// use xmen_checkpoint_format::{items, Item};
/// use xmen_core::value::{StateHandle, Value};
/// use xmen_core::valueref::ValueRef;
///
/// let nets = Value::Map(vec![("g".into(), Value::State(StateHandle(1))), ("lr".into(), Value::Float(0.1))]);
/// let got = items("nets", ValueRef::from(&nets), true);
/// assert_eq!(got[0], ("nets_g".to_owned(), Item::State(StateHandle(1))));
/// assert_eq!(got[1], ("nets_lr".to_owned(), Item::NoState("float")));
/// ```
pub fn items(name: &str, value: ValueRef<'_>, expand: bool) -> Vec<(String, Item)> {
    match (value, expand) {
        (ValueRef::Map(m), true) if tensor_map(m).is_none() && !m.is_empty() => {
            m.iter().map(|(k, v)| (format!("{name}_{k}"), classify(v))).collect()
        }
        _ => vec![(name.to_owned(), classify(value))],
    }
}

/// The warning for a variable with nothing to save.
pub fn no_state_warning(name: &str) -> String {
    format!("Value for key = {name} does not have a state_dict")
}

/// The warning for a Monitor without a directory.
pub fn no_directory_warning(names: &[String]) -> String {
    format!("WARNING: Cannot checkpoint {} as monitor does not have a directory", names.join(", "))
}

/// The line logged after a save.
pub fn saved_line(names: &[String], folder: &std::path::Path) -> String {
    format!("saved {} at {}", names.join(", "), folder.display())
}
