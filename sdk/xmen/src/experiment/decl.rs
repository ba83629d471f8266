//! What `#[derive(Experiment)]` expands to, beyond the trait: the declaration tree, the
//! compile-time checks that walk it, and the per-field tables. Not a stable API (it is
//! re-exported under `xmen::__private`).
//!
//! Every check here is a `const fn` evaluated in the user's crate: a duplicate parameter
//! across flattened parts stops compilation with a message naming both owners.

use xmen_core::Value;

use super::value::{ParamError, ParamValue};
use super::{ParamInfo, Parameters};

/// One node of an experiment's declaration tree.
#[derive(Clone, Copy, Debug)]
pub enum Decl {
    /// A parameter declared by a field of `owner`.
    Own {
        /// The parameter's name.
        name: &'static str,
        /// The experiment (struct or function) that declares it.
        owner: &'static str,
    },
    /// A flattened part, reached through the field `via`.
    Part {
        /// The field holding the part.
        via: &'static str,
        /// The part's own tree.
        decls: &'static [Decl],
    },
}

/// Where a type was defined: filled in by the derive with `env!` and `module_path!` of the
/// user's crate, for `_version`.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// `CARGO_PKG_NAME` of the defining crate.
    pub crate_name: &'static str,
    /// `CARGO_PKG_VERSION` of the defining crate.
    pub crate_version: &'static str,
    /// `CARGO_MANIFEST_DIR` of the defining crate (where git is looked up).
    pub manifest_dir: &'static str,
    /// `module_path!()` at the definition.
    pub module: &'static str,
    /// Made by `#[experiment]` from a function rather than derived on a struct.
    pub function: bool,
}

/// The conversions of one parameter field, built once per field so that a type that is not
/// a [`ParamValue`] is reported once, at the field.
pub struct Conv<T> {
    /// [`ParamValue::to_value`].
    pub to_value: fn(&T) -> Value,
    /// [`ParamValue::from_value`].
    pub from_value: fn(&Value) -> Result<T, ParamError>,
}

/// The conversion table of `T`.
pub const fn conv<T: ParamValue>() -> Conv<T> {
    Conv { to_value: T::to_value, from_value: T::from_value }
}

/// The [`Parameters`] functions of a flattened part, built once per field so that a type that
/// does not derive `Experiment` is reported once, at the field.
pub struct Part<T> {
    /// The part's declaration tree.
    pub decls: &'static [Decl],
    /// [`Parameters::parameters`].
    pub parameters: fn() -> Vec<ParamInfo>,
    /// [`Parameters::from_defaults`].
    pub defaults: fn() -> T,
    /// [`Parameters::values`].
    pub values: fn(&T) -> Vec<(String, Value)>,
    /// [`Parameters::set`].
    pub set: fn(&mut T, &str, &Value) -> Result<bool, ParamError>,
}

/// The part table of `T`.
pub const fn part<T: Parameters>() -> Part<T> {
    Part { decls: T::DECLS, parameters: T::parameters, defaults: T::from_defaults, values: T::values, set: T::set }
}

/// Set each parameter's default from the values of a default-constructed instance (so an
/// outer `defaults(...)` override shows in help and defaults.yml).
pub fn fill_defaults(infos: &mut [ParamInfo], values: Vec<(String, Value)>) {
    for (name, value) in values {
        if let Some(info) = infos.iter_mut().find(|i| i.name == name) {
            info.default = value;
        }
    }
}

/// Apply `defaults(name = value, ...)` of a flattened field. The names were checked at compile
/// time; a value of the wrong type is a programming error in the experiment's declaration,
/// reported when the experiment is first built.
pub fn override_defaults<T>(
    part: &mut T,
    set: fn(&mut T, &str, &Value) -> Result<bool, ParamError>,
    owner: &str,
    via: &str,
    overrides: &[(&str, Value)],
) {
    for (name, value) in overrides {
        match set(part, name, value) {
            Ok(true) => {}
            Ok(false) => panic!(
                "xmen: `{owner}` overrides the default of `{name}` in its field `{via}`, which has no such parameter"
            ),
            Err(e) => panic!(
                "xmen: `{owner}` overrides the default of `{name}` in its field `{via}` with a value of the wrong \
                 type: {e}; fix `#[param(flatten, defaults({name} = ...))]`"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compile-time checks. No allocation and no formatting exist in const fns, so messages are
// assembled byte by byte into a fixed buffer.

const MSG_LEN: usize = 512;

struct Msg {
    buf: [u8; MSG_LEN],
    len: usize,
}

impl Msg {
    const fn new() -> Msg {
        Msg { buf: [0; MSG_LEN], len: 0 }
    }

    const fn push(mut self, s: &str) -> Msg {
        let b = s.as_bytes();
        let mut i = 0;
        // Truncate at a char boundary rather than overflow the buffer.
        while i < b.len() && self.len < MSG_LEN - 4 {
            self.buf[self.len] = b[i];
            self.len += 1;
            i += 1;
        }
        while self.len > 0 && (self.buf[self.len - 1] & 0xC0) == 0x80 && i < b.len() {
            self.len -= 1;
        }
        self
    }

    const fn fail(&self) -> ! {
        let (head, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(head) {
            Ok(s) => panic!("{}", s),
            Err(_) => panic!("xmen: invalid experiment declaration"),
        }
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// How many parameters the tree declares.
const fn count(decls: &[Decl]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < decls.len() {
        n += match decls[i] {
            Decl::Own { .. } => 1,
            Decl::Part { decls, .. } => count(decls),
        };
        i += 1;
    }
    n
}

/// The `k`-th parameter of the tree, in field order: its name, owner and the top-level
/// field it comes through (`""` for the tree's own fields).
const fn nth(decls: &[Decl], mut k: usize) -> (&'static str, &'static str, &'static str) {
    let mut i = 0;
    while i < decls.len() {
        match decls[i] {
            Decl::Own { name, owner } => {
                if k == 0 {
                    return (name, owner, "");
                }
                k -= 1;
            }
            Decl::Part { via, decls } => {
                let n = count(decls);
                if k < n {
                    let (name, owner, _) = nth(decls, k);
                    return (name, owner, via);
                }
                k -= n;
            }
        }
        i += 1;
    }
    ("", "", "")
}

const fn describe(m: Msg, owner: &str, via: &str) -> Msg {
    let m = m.push("`").push(owner).push("`");
    if via.is_empty() {
        m.push(" (its own field)")
    } else {
        m.push(" (flattened through field `").push(via).push("`)")
    }
}

/// Stop compilation when two parameters of `decls` share a name, naming both owners.
pub const fn check_decls(decls: &[Decl], experiment: &str) {
    let n = count(decls);
    let mut i = 0;
    while i < n {
        let (a, a_owner, a_via) = nth(decls, i);
        let mut j = i + 1;
        while j < n {
            let (b, b_owner, b_via) = nth(decls, j);
            if str_eq(a, b) {
                let m = Msg::new().push("xmen: experiment `").push(experiment).push("` declares parameter `").push(a);
                let m = describe(m.push("` twice: in "), a_owner, a_via);
                let m = describe(m.push(" and in "), b_owner, b_via);
                m.push("; rename one of them or mark one field `#[param(skip)]`").fail();
            }
            j += 1;
        }
        i += 1;
    }
}

/// Stop compilation when `defaults(name = ...)` names a parameter the flattened part lacks.
pub const fn check_override(decls: &[Decl], name: &str, experiment: &str, via: &str) {
    let n = count(decls);
    let mut i = 0;
    while i < n {
        if str_eq(nth(decls, i).0, name) {
            return;
        }
        i += 1;
    }
    let m = Msg::new().push("xmen: `").push(experiment).push("` overrides the default of `").push(name);
    let mut m = m.push("` in its flattened field `").push(via).push("`, which has no such parameter; it has: ");
    let mut k = 0;
    while k < n {
        if k > 0 {
            m = m.push(", ");
        }
        m = m.push(nth(decls, k).0);
        k += 1;
    }
    m.fail();
}

/// What an experiment function may return: `()` or `Result<(), E>` for any error `E`.
pub trait IntoRunResult {
    /// As the body's result.
    fn into_run_result(self) -> super::RunResult;
}

impl IntoRunResult for () {
    fn into_run_result(self) -> super::RunResult {
        Ok(())
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>> IntoRunResult for Result<(), E> {
    fn into_run_result(self) -> super::RunResult {
        self.map_err(Into::into)
    }
}

/// [`IntoRunResult::into_run_result`] as a function, for the generated code.
pub fn into_run_result<T: IntoRunResult>(t: T) -> super::RunResult {
    t.into_run_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INNER: &[Decl] = &[Decl::Own { name: "lr", owner: "Opt" }, Decl::Own { name: "beta", owner: "Opt" }];
    const TREE: &[Decl] = &[Decl::Own { name: "epochs", owner: "Train" }, Decl::Part { via: "opt", decls: INNER }];

    #[test]
    fn the_tree_is_walked_in_field_order() {
        assert_eq!(count(TREE), 3);
        assert_eq!(nth(TREE, 0), ("epochs", "Train", ""));
        assert_eq!(nth(TREE, 2), ("beta", "Opt", "opt"));
        check_decls(TREE, "Train");
        check_override(INNER, "beta", "Train", "opt");
    }

    #[test]
    fn a_duplicate_names_both_owners() {
        let dup: &[Decl] = &[Decl::Own { name: "lr", owner: "Train" }, Decl::Part { via: "opt", decls: INNER }];
        let msg = std::panic::catch_unwind(|| check_decls(dup, "Train")).err();
        let text = msg.as_ref().and_then(|m| m.downcast_ref::<String>()).cloned().unwrap_or_default();
        assert_eq!(
            text,
            "xmen: experiment `Train` declares parameter `lr` twice: in `Train` (its own field) and in `Opt` \
             (flattened through field `opt`); rename one of them or mark one field `#[param(skip)]`"
        );
    }

    #[test]
    fn an_override_of_a_missing_parameter_lists_the_part_parameters() {
        let msg = std::panic::catch_unwind(|| check_override(INNER, "eps", "Train", "opt")).err();
        let text = msg.as_ref().and_then(|m| m.downcast_ref::<String>()).cloned().unwrap_or_default();
        assert!(text.ends_with("which has no such parameter; it has: lr, beta"), "{text}");
    }
}
