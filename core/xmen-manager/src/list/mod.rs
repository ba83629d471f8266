//! `xmen list`: the linked experiments as a filtered, flattened table.
//!
//! **Key design choice: a warm listing never parses YAML.** Every params.yml is flattened once
//! into a compact binary row kept in a rebuildable index (`$XMEN/cache/list-index.bin`, see
//! [`index`]); later listings stat the files, reuse the rows whose stamp is unchanged and
//! decode only the cells of the columns the filters keep. The YAML files stay the source of
//! truth: a file whose size, mtime, ctime or inode changed, or that changed too recently to
//! trust its timestamps, is parsed again.
//!
//! The pipeline: [`select()`] picks folders from the global configuration's `linked` list (a
//! prefix regex, a path or a glob; duplicates once), [`index::load_rows`] gives their rows,
//! [`build_table`] applies the `--type` filter and the `-f` filters (all must hold) and orders
//! and names the columns, and [`render`] prints the table as text, CSV, JSON or notebook
//! summaries. [`show`] prints one record as the original printed an experiment.

mod codec;
pub mod columns;
pub mod filter;
pub mod index;
pub mod render;
pub mod select;
pub mod show;

use std::collections::HashMap;
use std::path::Path;

use xmen_core::Value;

pub use columns::{column_rank, display_name, flatten_record, order_columns};
pub use filter::{Filter, FilterError, Op};
pub use index::{IndexOptions, IndexStats, ERROR_KEY, UNREADABLE};
pub use render::{render_csv, render_json, render_notebook, render_text, RenderOptions};
pub use select::{select, Selection};

/// `-d`: timestamp columns.
pub const DISPLAY_DATE: &str = "_timestamps|_created";
/// `-s`: the status column, and `stopped_by` for runs a hook stopped.
pub const DISPLAY_STATUS: &str = "_status$|_stopped_by$";
/// `-a`: the attempt history (how many earlier attempts, how the last one ended).
pub const DISPLAY_ATTEMPTS: &str = "_attempts";
/// `-P`: the purpose column.
pub const DISPLAY_PURPOSE: &str = "_purpose$";
/// `-v`: version columns.
pub const DISPLAY_VERSION: &str = "_version";
/// `-m`: the Monitor's summary messages.
pub const DISPLAY_MESSAGES: &str = "_messages_(last$|e$|s$|wall$|end$|next$|.*step$|.*load$)";
/// `-M`: the basic meta columns.
pub const DISPLAY_META: &str = "_meta_(root$|name$|mac$|host$|user$|home$)";
/// `-C`: what each hook cost the training thread (total seconds and share of the run's wall
/// time per entry; every field with `-f "_hooks_cost_.*"`).
pub const DISPLAY_HOOKS_COST: &str = "_hooks_cost_.*_(total|share)$";
/// The filters `-N` adds.
pub const NOTEBOOK_FILTERS: [&str; 4] = ["_notes", "_created|_timestamps", "_purpose", "_version"];

/// A `--sort` request: a column by displayed or flattened name; a leading `-` sorts
/// descending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// The column (`lr`, `status`, `_status`, `loss`...).
    pub column: String,
    /// Largest first.
    pub descending: bool,
}

impl std::str::FromStr for SortKey {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<SortKey, Self::Err> {
        Ok(match s.strip_prefix('-') {
            Some(c) => SortKey { column: c.to_owned(), descending: true },
            None => SortKey { column: s.to_owned(), descending: false },
        })
    }
}

/// A validated listing request (everything but which folders).
#[derive(Clone, Debug, Default)]
pub struct ListSpec {
    /// All filters in order: `_root`, `_name`, the display toggles, then `-f`.
    pub filters: Vec<Filter>,
    /// `--type`: keep experiments of these types (any of them); empty keeps all.
    pub types: Vec<String>,
    /// `--sort`.
    pub sort: Option<SortKey>,
    /// Also show the parameters whose values differ between the listed rows (the default
    /// display of `xmen list`).
    pub swept: bool,
    /// Per filter (same positions as `filters`; missing = `false`): whether it must name a
    /// column some listed row has. `-f` filters and display toggles given a regex are checked;
    /// `_root`, `_name` and the toggles' own regexes are not.
    pub checked: Vec<bool>,
}

impl ListSpec {
    /// The filter list, in the original's order: `_root`, `_name`, the given display toggles
    /// (regexes; an unset toggle matches no column), then `user` filters as typed.
    ///
    /// The `user` filters must each name a column some listed row has (see [`ListSpec::checked`]).
    pub fn new(toggles: &[&str], user: &[String]) -> Result<ListSpec, FilterError> {
        let mut filters = vec![Filter::column("_root")?, Filter::column("_name")?];
        for t in toggles {
            filters.push(Filter::column(t)?);
        }
        let mut checked = vec![false; filters.len()];
        for f in user {
            filters.push(f.parse()?);
            checked.push(true);
        }
        Ok(ListSpec { filters, types: Vec::new(), sort: None, swept: false, checked })
    }

    /// Also require the display toggle regex `regex` (one of the `toggles` given to
    /// [`ListSpec::new`]) to name a column: the user typed it (`-d=start`).
    pub fn check_toggle(&mut self, regex: &str) {
        let at = self.filters.iter().position(|f| f.condition().is_none() && f.regex() == regex);
        if let Some(i) = at {
            self.checked.resize(self.filters.len(), false);
            self.checked[i] = true;
        }
    }
}

/// What can stop a listing once the request is valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// `--sort` names a column no listed row has.
    #[error("cannot sort by `{column}`: no listed experiment has a column of that name{}", hint(suggestions))]
    UnknownSortColumn {
        /// The requested column, as typed.
        column: String,
        /// Close names among every column of the listed rows.
        suggestions: Vec<String>,
    },
    /// A filter or display regex matches no column of any listed row.
    #[error(
        "no column matches `{filter}`: no listed experiment has a column whose name starts with `{regex}`{}",
        hint(suggestions)
    )]
    UnknownColumn {
        /// The filter as typed (`lrr<0.1`).
        filter: String,
        /// Its column regex (`lrr`).
        regex: String,
        /// Close names among every column of the listed rows.
        suggestions: Vec<String>,
    },
}

impl ListError {
    /// Whether this is a mistake in the request (a column name), as opposed to a failure.
    pub fn is_usage(&self) -> bool {
        matches!(self, ListError::UnknownSortColumn { .. } | ListError::UnknownColumn { .. })
    }
}

fn hint(suggestions: &[String]) -> String {
    let named = match suggestions {
        [] => ".".to_owned(),
        [one] => format!("; did you mean `{one}`?"),
        many => {
            format!("; did you mean one of {}?", many.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
        }
    };
    format!(
        "{named} Columns are named as the table shows them (`loss`) or by their flattened key \
         (`_messages_loss`); see every column with `xmen list -f '.*'`"
    )
}

/// One column: its flattened key and displayed name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The flattened key (`_version_git_commit`).
    pub key: String,
    /// The displayed name (`git_commit`).
    pub name: String,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The row's label: its position among the listed folders, kept through filtering and
    /// sorting as pandas keeps a frame's index.
    pub index: usize,
    /// The experiment folder.
    pub folder: String,
    /// One cell per column; `None` where the record has no such key.
    pub cells: Vec<Option<Value>>,
    /// Why the params.yml could not be read (file and reason), when it could not.
    pub unreadable: Option<String>,
}

/// The table of a listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The columns, in display order.
    pub columns: Vec<Column>,
    /// The rows, in linked order (or sorted).
    pub rows: Vec<Row>,
}

impl Table {
    /// The position of the column with flattened key `key`.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }

    /// The cell of `row` in the column with flattened key `key`.
    pub fn cell<'a>(&self, row: &'a Row, key: &str) -> Option<&'a Value> {
        self.column(key).and_then(|i| row.cells.get(i)?.as_ref())
    }
}

/// A finished listing.
#[derive(Debug)]
pub struct Listing {
    /// The table.
    pub table: Table,
    /// How many folders were read (before `--type` and the row filters).
    pub read: usize,
    /// How the index was used.
    pub stats: IndexStats,
}

/// List `folders` (experiment folders, in order) through the index at `index` (none: parse
/// every file and write nothing). `linked` is the whole `linked` list, used to prune the
/// index.
pub fn list<S: AsRef<str> + Sync>(
    folders: &[S],
    linked: &[String],
    spec: &ListSpec,
    index: Option<&Path>,
    opts: IndexOptions,
) -> Result<Listing, ListError> {
    let rows = index::load_rows(folders, linked, index, opts);
    let table = build_table(&rows, spec)?;
    Ok(Listing { table, read: rows.rows().len(), stats: rows.stats.clone() })
}

/// The types an experiment answers to for `--type`.
fn type_names(cells: &HashMap<&str, &Value>, set_type: Option<&str>) -> Vec<String> {
    let s = |k: &str| match cells.get(k) {
        Some(Value::Str(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let mut names: Vec<String> = set_type.map(str::to_owned).into_iter().collect();
    let (module, class) = (s("_version_module"), s("_version_class"));
    if let (Some(m), Some(c)) = (&module, &class) {
        names.push(format!("{m}.{c}"));
    }
    names.extend(module);
    names.extend(class);
    names.extend(s("_version_crate"));
    names
}

/// The `type` of the set a folder belongs to, from `{parent}/experiment.yml`.
fn set_type(folder: &str, cache: &mut HashMap<String, Option<String>>) -> Option<String> {
    let parent = Path::new(folder).parent()?.display().to_string();
    cache
        .entry(parent)
        .or_insert_with_key(|parent| {
            let path = Path::new(parent).join("experiment.yml");
            let text = std::fs::read_to_string(&path).ok()?;
            match xmen_record::yaml::parse(&text, &path).ok()? {
                Value::Map(m) => m.into_iter().find(|(k, _)| k == "type").and_then(|(_, v)| match v {
                    Value::Str(s) => Some(s),
                    _ => None,
                }),
                _ => None,
            }
        })
        .clone()
}

/// Order of values for `--sort`: comparable values by Python's rules, otherwise numbers before
/// strings before anything else; missing cells last.
fn sort_cmp(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let rank = |v: &Value| match v {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => 0,
        Value::Str(_) => 1,
        _ => 2,
    };
    match (a, b) {
        (None | Some(Value::None), None | Some(Value::None)) => Ordering::Equal,
        (None | Some(Value::None), _) => Ordering::Greater,
        (_, None | Some(Value::None)) => Ordering::Less,
        (Some(x), Some(y)) => filter::py_cmp(x, y).unwrap_or_else(|| rank(x).cmp(&rank(y))),
    }
}

/// Up to three column names (displayed or flattened) of the listed rows close to `typed`.
fn suggest_columns(typed: &str, rows: &index::Rows<'_>, decoded: &[Decoded<'_>]) -> Vec<String> {
    let keys = rows.keys();
    let mut seen = vec![false; keys.len()];
    for (_, raw, _) in decoded {
        for id in rows.key_ids(raw) {
            if let Some(s) = seen.get_mut(id as usize) {
                *s = true;
            }
        }
    }
    let mut known: Vec<String> = Vec::new();
    for (_, key) in keys.iter().enumerate().filter(|(i, _)| seen[*i]) {
        if let Some(name) = display_name(key) {
            if name != *key && !known.contains(&name) {
                known.push(name);
            }
            known.push(key.clone());
        }
    }
    xmen_core::suggest::did_you_mean(typed, &known)
}

/// A row being built: its label, its encoded form and its decoded cells.
type Decoded<'a> = (usize, &'a index::RawRow<'a>, Vec<(u32, Value)>);

/// Build the table from encoded rows: `--type`, then column selection and
/// row predicates, then column order and names, then `--sort`.
///
/// Unreadable rows are never filtered out (nothing can be evaluated on them) and bring the
/// `status` and `error` columns with them.
pub fn build_table(rows: &index::Rows<'_>, spec: &ListSpec) -> Result<Table, ListError> {
    let keys = rows.keys();
    let names: Vec<Option<String>> = keys.iter().map(|k| display_name(k)).collect();
    // The key ids each filter names: the flattened keys its regex matches, or else the
    // displayed names it matches (`loss` for `_messages_loss`, `start` for `_timestamps_start`).
    let named: Vec<Vec<u32>> = spec
        .filters
        .iter()
        .map(|f| {
            let by_key: Vec<u32> = (0..keys.len()).filter(|&i| f.matches(&keys[i])).map(|i| i as u32).collect();
            if !by_key.is_empty() {
                return by_key;
            }
            (0..keys.len()).filter(|&i| names[i].as_deref().is_some_and(|n| f.matches(n))).map(|i| i as u32).collect()
        })
        .collect();
    // Which key ids the filters keep (spec step 3); slurm fields outside the list never show.
    let mut kept = vec![false; keys.len()];
    for ids in &named {
        for id in ids {
            kept[*id as usize] = names[*id as usize].is_some();
        }
    }
    let sort_ids: Vec<bool> = match &spec.sort {
        Some(s) => keys.iter().map(|k| *k == s.column || display_name(k).as_deref() == Some(&s.column)).collect(),
        None => vec![false; keys.len()],
    };
    // Cells decoded beyond the kept columns, only when something needs them: the status and
    // error columns shown with unreadable rows, the version keys `--type` reads. (Each is a
    // string per row: 100,000 allocations a listing would otherwise make and free.)
    let any_unreadable = rows.rows().iter().any(|r| r.unreadable.is_some());
    let extra: Vec<bool> = keys
        .iter()
        .map(|k| match k.as_str() {
            "_root" => true,
            "_status" => any_unreadable,
            "_version_module" | "_version_class" | "_version_crate" => !spec.types.is_empty(),
            k => k == ERROR_KEY && any_unreadable,
        })
        .collect();
    let params: Vec<bool> = keys.iter().map(|k| spec.swept && !k.starts_with('_')).collect();
    let mask: Vec<bool> = (0..keys.len()).map(|i| kept[i] || params[i] || extra[i] || sort_ids[i]).collect();
    let wanted = |id: u32| mask.get(id as usize).copied().unwrap_or(false);

    // Decode the wanted cells (on every core: most of a warm listing's work), then apply
    // --type.
    let all_cells = crate::par::par_chunks(rows.rows(), 0, 4096, |part| {
        part.iter().map(|raw| rows.cells(raw, wanted)).collect::<Vec<_>>()
    });
    let mut set_types = HashMap::new();
    let mut decoded: Vec<Decoded<'_>> = Vec::with_capacity(rows.rows().len());
    // `running` rows whose process is gone show as `lost` (issue 9; see crate::reconcile).
    // (Only when the status cells were decoded: otherwise no row has one to reconcile.)
    let status_id = keys.iter().position(|k| k == "_status").filter(|&i| mask[i]);
    let mut reconciler = crate::reconcile::Reconciler::new();
    for ((label, raw), mut cells) in rows.rows().iter().enumerate().zip(all_cells) {
        reconciler.status_cell(&mut cells, status_id, raw.folder);
        if !spec.types.is_empty() && raw.unreadable.is_none() {
            let by_key: HashMap<&str, &Value> = cells.iter().map(|(id, v)| (keys[*id as usize].as_str(), v)).collect();
            let st = set_type(raw.folder, &mut set_types);
            let names = type_names(&by_key, st.as_deref());
            if !names.iter().any(|n| spec.types.contains(n)) {
                continue;
            }
        }
        decoded.push((label, raw, cells));
    }

    // Row predicates (spec step 4) over the columns the remaining rows have.
    let mut present = vec![false; keys.len()];
    for (_, _, cells) in &decoded {
        for (id, _) in cells {
            present[*id as usize] = true;
        }
    }
    // A checked filter must name a column some row has (issue 14: a typo used to list every row).
    if !decoded.is_empty() {
        for (i, (f, ids)) in spec.filters.iter().zip(&named).enumerate() {
            if spec.checked.get(i).copied().unwrap_or(false) && !ids.iter().any(|id| present[*id as usize]) {
                return Err(ListError::UnknownColumn {
                    filter: f.to_string(),
                    regex: f.regex().to_owned(),
                    suggestions: suggest_columns(f.regex(), rows, &decoded),
                });
            }
        }
    }
    if let Some(sort) = &spec.sort {
        if !decoded.is_empty() && !sort_ids.iter().zip(&present).any(|(s, p)| *s && *p) {
            return Err(ListError::UnknownSortColumn {
                column: sort.column.clone(),
                suggestions: suggest_columns(&sort.column, rows, &decoded),
            });
        }
    }
    let predicates: Vec<(&Filter, Vec<u32>)> = spec
        .filters
        .iter()
        .zip(&named)
        .filter(|(f, _)| f.condition().is_some())
        .map(|(f, ids)| (f, ids.iter().copied().filter(|&i| present[i as usize] && kept[i as usize]).collect()))
        .collect();
    decoded.retain(|(_, raw, cells)| {
        raw.unreadable.is_some()
            || predicates
                .iter()
                .all(|(f, ids)| ids.iter().all(|id| f.holds(cells.iter().find(|(c, _)| c == id).map(|(_, v)| v))))
    });

    // The swept parameters: those whose value is not the same in every remaining row.
    if spec.swept && decoded.len() > 1 {
        let mut first: Vec<Option<Option<&Value>>> = vec![None; keys.len()];
        let mut varies = vec![false; keys.len()];
        for (n, (_, _, cells)) in decoded.iter().enumerate() {
            for i in 0..keys.len() {
                if !params[i] || varies[i] {
                    continue;
                }
                let v = cells.iter().find(|(id, _)| *id as usize == i).map(|(_, v)| v);
                match first[i] {
                    None if n == 0 => first[i] = Some(v),
                    None => varies[i] = v.is_some(),
                    Some(f) => {
                        varies[i] = match (f, v) {
                            (None, None) => false,
                            (Some(a), Some(b)) => !filter::py_eq(a, b),
                            _ => true,
                        }
                    }
                }
            }
        }
        for (i, v) in varies.into_iter().enumerate() {
            if v {
                kept[i] = true;
            }
        }
    }
    // Columns: the kept keys of the remaining rows in first-seen order, then grouped.
    let any_unreadable = any_unreadable && decoded.iter().any(|(_, raw, _)| raw.unreadable.is_some());
    let mut seen = vec![false; keys.len()];
    let mut order: Vec<u32> = Vec::new();
    for (_, _, cells) in &decoded {
        for (id, _) in cells {
            let i = *id as usize;
            let show = kept[i] || (any_unreadable && (keys[i] == "_status" || keys[i] == ERROR_KEY));
            if show && !seen[i] {
                seen[i] = true;
                order.push(*id);
            }
        }
    }
    // A stable sort: first-seen order inside each group.
    order.sort_by_key(|id| columns::column_rank(&keys[*id as usize]));
    let mut slot = vec![usize::MAX; keys.len()];
    for (pos, id) in order.iter().enumerate() {
        slot[*id as usize] = pos;
    }
    let columns: Vec<Column> = order
        .iter()
        .map(|id| {
            let key = keys[*id as usize].clone();
            let name = display_name(&key).unwrap_or_else(|| key.clone());
            Column { key, name }
        })
        .collect();

    let mut sort_values: Vec<Option<Value>> = Vec::new();
    let mut table_rows: Vec<Row> = Vec::with_capacity(decoded.len());
    for (label, raw, cells) in decoded {
        let mut row = vec![None; columns.len()];
        let mut sort_value = None;
        for (id, v) in cells {
            let i = id as usize;
            if sort_ids[i] && sort_value.is_none() {
                sort_value = Some(v.clone());
            }
            if slot[i] != usize::MAX {
                row[slot[i]] = Some(v);
            }
        }
        sort_values.push(sort_value);
        table_rows.push(Row {
            index: label,
            folder: raw.folder.to_owned(),
            cells: row,
            unreadable: raw.unreadable.clone(),
        });
    }

    if let Some(sort) = &spec.sort {
        let mut idx: Vec<usize> = (0..table_rows.len()).collect();
        idx.sort_by(|&a, &b| {
            let o = sort_cmp(sort_values[a].as_ref(), sort_values[b].as_ref());
            if sort.descending && sort_values[a].is_some() && sort_values[b].is_some() {
                o.reverse()
            } else {
                o
            }
        });
        let mut taken: Vec<Option<Row>> = table_rows.into_iter().map(Some).collect();
        table_rows = idx.into_iter().filter_map(|i| taken[i].take()).collect();
    }
    Ok(Table { columns, rows: table_rows })
}

#[cfg(test)]
mod tests;
