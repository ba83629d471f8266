//! Tag rules, as the original's: `prefix + name`; a map gives `{tag}_{key}` (or `{key}` when
//! `prepend` is off), a list `{tag}_{index}`; nulls are skipped.

use crate::options::Config;
use std::sync::Arc;
use xmen_hook::ValueRef;

/// Which part of a variable a summary comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub<'a> {
    /// The variable itself.
    Whole,
    /// Entry `key` of a map.
    Key(&'a str),
    /// Item `i` of a list.
    Index(usize),
}

/// The tag of `name`'s part `sub`.
pub fn tag(cfg: &Config, name: &str, sub: Sub<'_>) -> String {
    match sub {
        Sub::Whole => format!("{}{name}", cfg.prefix),
        Sub::Key(k) if cfg.prepend => format!("{}{name}_{k}", cfg.prefix),
        Sub::Key(k) => k.to_owned(),
        Sub::Index(i) => format!("{}{name}_{i}", cfg.prefix),
    }
}

/// Expand one variable into its non-null parts. `whole` says whether a map is one
/// summary by itself (a PR curve's `{labels, predictions}`, a mesh's `{vertices, ...}`).
pub fn expand<'a>(v: ValueRef<'a>, whole: impl Fn(ValueRef<'a>) -> bool, mut emit: impl FnMut(Sub<'a>, ValueRef<'a>)) {
    match v {
        ValueRef::None => {}
        ValueRef::Map(m) if !whole(v) => {
            for (k, item) in m.iter() {
                if !matches!(item, ValueRef::None) {
                    emit(Sub::Key(k), item);
                }
            }
        }
        ValueRef::List(l) => {
            for (i, item) in l.iter().enumerate() {
                if !matches!(item, ValueRef::None) {
                    emit(Sub::Index(i), item);
                }
            }
        }
        _ => emit(Sub::Whole, v),
    }
}

#[derive(PartialEq, Eq)]
enum SubKey {
    Whole,
    Key(String),
    Index(usize),
}

impl SubKey {
    fn is(&self, sub: Sub<'_>) -> bool {
        match (self, sub) {
            (SubKey::Whole, Sub::Whole) => true,
            (SubKey::Key(a), Sub::Key(b)) => a == b,
            (SubKey::Index(a), Sub::Index(b)) => *a == b,
            _ => false,
        }
    }
    fn of(sub: Sub<'_>) -> SubKey {
        match sub {
            Sub::Whole => SubKey::Whole,
            Sub::Key(k) => SubKey::Key(k.to_owned()),
            Sub::Index(i) => SubKey::Index(i),
        }
    }
}

/// The scalar tags of the last firing, reused while the variables keep their names
/// and shapes, so a steady training loop builds no strings.
#[derive(Default)]
pub struct TagCache {
    keys: Vec<(String, SubKey)>,
    tags: Vec<String>,
    shared: Arc<Vec<String>>,
    pos: usize,
    dirty: bool,
}

impl TagCache {
    /// Start a firing.
    pub fn begin(&mut self) {
        self.pos = 0;
        self.dirty = false;
    }

    /// The next scalar of this firing is `name`'s part `sub`.
    #[inline(never)]
    pub fn visit(&mut self, cfg: &Config, name: &str, sub: Sub<'_>) {
        let hit = self.keys.get(self.pos).is_some_and(|(n, s)| n == name && s.is(sub));
        if !hit {
            self.keys.truncate(self.pos);
            self.tags.truncate(self.pos);
            self.keys.push((name.to_owned(), SubKey::of(sub)));
            self.tags.push(tag(cfg, name, sub));
            self.dirty = true;
        }
        self.pos += 1;
    }

    /// The next scalar of this firing is `name` itself (a plain number): [`TagCache::visit`]
    /// with [`Sub::Whole`], with the steady state (same name as last firing) checked first.
    #[inline(always)]
    pub fn visit_whole(&mut self, cfg: &Config, name: &str) {
        match self.keys.get(self.pos) {
            Some((n, SubKey::Whole)) if same(n.as_bytes(), name.as_bytes()) => self.pos += 1,
            _ => self.visit(cfg, name, Sub::Whole),
        }
    }

    /// The tags of this firing, in visit order.
    pub fn finish(&mut self) -> Arc<Vec<String>> {
        if self.dirty || self.pos != self.shared.len() {
            self.keys.truncate(self.pos);
            self.tags.truncate(self.pos);
            self.shared = Arc::new(self.tags.clone());
        }
        Arc::clone(&self.shared)
    }
}

/// `a == b`, inline for names of up to 16 bytes (two overlapping word loads per side instead
/// of a call to `memcmp`, which cost the steady-state firing of 100 scalars ~40 instructions a
/// name).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    fn word<const W: usize>(x: &[u8], at: usize) -> [u8; W] {
        let mut w = [0; W];
        w.copy_from_slice(&x[at..at + W]);
        w
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        _ => a == b,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use xmen_hook::{Options, Value};

    fn cfg(prefix: &str, prepend: bool) -> Config {
        let o = vec![("prefix".to_string(), Value::from(prefix)), ("prepend".to_string(), Value::from(prepend))];
        Config::from_options(&Options::new(&o)).unwrap()
    }

    fn expanded(c: &Config, name: &str, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        expand(ValueRef::from(v), |_| false, |sub, _| out.push(tag(c, name, sub)));
        out
    }

    #[test]
    fn tag_rules_follow_the_original() {
        let c = cfg("train/", true);
        let map: Value = vec![("x", Value::from(1)), ("y", Value::None), ("i", Value::from(2))].into_iter().collect();
        assert_eq!(expanded(&c, "z", &map), ["train/z_x", "train/z_i"]);
        assert_eq!(expanded(&c, "a", &Value::from(vec![1.0, 2.0])), ["train/a_0", "train/a_1"]);
        assert_eq!(expanded(&c, "x", &Value::from(3)), ["train/x"]);
        assert!(expanded(&c, "n", &Value::None).is_empty());
        assert_eq!(expanded(&cfg("p/", false), "z", &map), ["x", "i"]);
    }

    #[test]
    fn short_names_compare_like_strings() {
        let names = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "xbc",
            "v00",
            "v01",
            "loss",
            "lost",
            "acc/val",
            "acc/vaL",
            "12345678",
            "12345679",
            "02345678",
            "train/loss_ema",
            "train/loss_emb",
            "xrain/loss_ema",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "bbcdefghijklmnop",
            "a_name_longer_than_16",
            "a_name_longer_than_17",
        ];
        for a in names {
            for b in names {
                assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b, "{a:?} vs {b:?}");
            }
        }
        // Every single-byte difference at every position of every length up to 20.
        for n in 1..=20 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!same(&a, &b), "length {n}, byte {i}");
            }
            assert!(same(&a, &a.clone()));
        }
    }

    #[test]
    fn map_keys_and_indices_are_part_of_what_the_cache_compares() {
        let c = cfg("p/", true);
        let mut t = TagCache::default();
        let mut fire = |parts: &[(&str, Sub<'_>)]| {
            t.begin();
            for (name, sub) in parts {
                t.visit(&c, name, *sub);
            }
            t.finish()
        };
        let first = fire(&[("ab", Sub::Key("c")), ("x", Sub::Whole)]);
        assert_eq!(*first, ["p/ab_c", "p/x"]);
        assert!(Arc::ptr_eq(&first, &fire(&[("ab", Sub::Key("c")), ("x", Sub::Whole)])));
        // The same bytes split differently between name and key, another key, an index.
        assert_eq!(*fire(&[("a", Sub::Key("bc")), ("x", Sub::Whole)]), ["p/a_bc", "p/x"]);
        assert_eq!(*fire(&[("a", Sub::Key("bd")), ("x", Sub::Whole)]), ["p/a_bd", "p/x"]);
        assert_eq!(*fire(&[("a", Sub::Index(0)), ("x", Sub::Index(1))]), ["p/a_0", "p/x_1"]);
        assert_eq!(*fire(&[("a", Sub::Index(0)), ("x", Sub::Index(2))]), ["p/a_0", "p/x_2"]);
        // Shorter, then longer again, then nothing.
        assert_eq!(*fire(&[("a", Sub::Index(0))]), ["p/a_0"]);
        assert_eq!(*fire(&[("a", Sub::Index(0)), ("yy", Sub::Key("k"))]), ["p/a_0", "p/yy_k"]);
        assert!(fire(&[]).is_empty());
    }

    #[test]
    fn the_cache_reuses_tags_until_names_change() {
        let c = cfg("", true);
        let mut t = TagCache::default();
        t.begin();
        t.visit(&c, "a", Sub::Whole);
        t.visit(&c, "b", Sub::Index(0));
        let first = t.finish();
        t.begin();
        t.visit(&c, "a", Sub::Whole);
        t.visit(&c, "b", Sub::Index(0));
        assert!(Arc::ptr_eq(&first, &t.finish()));
        t.begin();
        t.visit(&c, "a", Sub::Whole);
        assert_eq!(*t.finish(), vec!["a".to_string()]);
    }
}
