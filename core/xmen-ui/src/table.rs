//! The runs table: `xmen list` in a page. The filter box takes the `-f` language (several
//! filters separated by `;`), the check boxes are `xmen list`'s display toggles, headers sort
//! and hide columns, and only the requested page of rows is rendered.
//!
//! The table is built by the manager's listing ([`xmen_manager::list::list`]) through the same
//! index `xmen list` keeps, so a warm page never parses YAML.

use std::fmt::Write as _;

use xmen_manager::list::{self as core, Filter, IndexOptions, ListError, ListSpec, SortKey};

use crate::html::{badge, esc, param, Query};
use crate::state::App;
use crate::UiError;

/// The display toggles: query letter, label, the regex `xmen list` uses.
pub const TOGGLES: [(&str, &str, &str); 7] = [
    ("s", "status", core::DISPLAY_STATUS),
    ("d", "dates", core::DISPLAY_DATE),
    ("P", "purpose", core::DISPLAY_PURPOSE),
    ("m", "messages", core::DISPLAY_MESSAGES),
    ("v", "version", core::DISPLAY_VERSION),
    ("M", "meta", core::DISPLAY_META),
    ("C", "hook cost", core::DISPLAY_HOOKS_COST),
];

/// Rows per page unless `per=` says otherwise.
pub const PER_PAGE: usize = 50;

/// A filter box that does not parse: the message and the character offset in the box.
#[derive(Debug, PartialEq, Eq)]
pub struct BoxError {
    /// What is wrong (the first line of the filter error).
    pub message: String,
    /// The 0-based character offset in the whole box.
    pub position: usize,
}

/// Split the box at `;` outside quotes and parse each filter; an error's position is counted in
/// the whole box.
pub fn parse_box(text: &str) -> Result<Vec<String>, BoxError> {
    let mut pieces = Vec::new();
    let (mut start, mut quote) = (0usize, None);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for &(i, c) in &chars {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ';') => {
                pieces.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, &text[start..]));
    let mut out = Vec::new();
    for (byte_start, piece) in pieces {
        let trimmed = piece.trim_start();
        let lead = piece.len() - trimmed.len();
        let trimmed = trimmed.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        if let Err(e) = trimmed.parse::<Filter>() {
            let offset = text[..byte_start + lead].chars().count();
            let message = e.to_string().lines().next().unwrap_or_default().to_owned();
            return Err(BoxError { message, position: offset + e.position });
        }
        out.push(trimmed.to_owned());
    }
    Ok(out)
}

/// Which toggles are on: the query's `show=` letters, or status and messages on a first visit.
fn toggles(q: &Query) -> Vec<&'static str> {
    let chosen = q.all("show");
    let first_visit = !q.has("v");
    TOGGLES
        .iter()
        .filter(|(l, _, _)| if first_visit { *l == "s" || *l == "m" } else { chosen.contains(l) })
        .map(|(_, _, re)| *re)
        .collect()
}

/// The longest folder prefix (ending in `/`) shared by every folder.
pub fn common_root<'a>(folders: impl Iterator<Item = &'a str>) -> String {
    let mut prefix: Option<&str> = None;
    for f in folders {
        prefix = Some(match prefix {
            None => f,
            Some(p) => {
                let n = p.bytes().zip(f.bytes()).take_while(|(a, b)| a == b).count();
                &p[..n]
            }
        });
    }
    let p = prefix.unwrap_or("");
    p.rfind('/').map_or(String::new(), |i| p[..=i].to_owned())
}

/// The table part of the runs page (what the live refresh replaces).
pub fn table_html(app: &App, q: &Query) -> Result<String, UiError> {
    let filters = match parse_box(q.get("f").unwrap_or("")) {
        Ok(f) => f,
        Err(e) => return Ok(box_error(q.get("f").unwrap_or(""), &e)),
    };
    let toggles = toggles(q);
    let mut spec = match ListSpec::new(&toggles, &filters) {
        Ok(s) => s,
        Err(e) => return Ok(format!("<div class=\"err\">{}</div>", esc(&e.to_string()))),
    };
    spec.sort = q.get("sort").filter(|s| !s.is_empty()).map(|s| match s.parse::<SortKey>() {
        Ok(k) => k,
        Err(never) => match never {},
    });
    let (all, shown, _) = app.folders()?;
    if shown.is_empty() {
        return Ok(format!(
            "<p class=\"err\">No experiments found: none of the {} linked experiments is in {}. Register some with \
             <code>xmen register</code> inside a set, or start <code>xmen ui</code> with other paths.</p>",
            all.len(),
            esc(&app.described)
        ));
    }
    let listing = match core::list(&shown, &all, &spec, app.index.as_deref(), IndexOptions::default()) {
        Ok(l) => l,
        Err(e @ ListError::UnknownSortColumn { .. }) => {
            return Ok(format!("<div class=\"err\" id=\"sort-error\">{}</div>", esc(&e.to_string())))
        }
        Err(e) => return Ok(format!("<div class=\"err\">{}</div>", esc(&e.to_string()))),
    };
    let table = &listing.table;
    let hidden = q.all("hide");
    let cols: Vec<usize> =
        (0..table.columns.len()).filter(|&i| !hidden.contains(&table.columns[i].key.as_str())).collect();
    let total = table.rows.len();
    let per = q.get("per").and_then(|p| p.parse::<usize>().ok()).filter(|p| (1..=1000).contains(p)).unwrap_or(PER_PAGE);
    let pages = total.div_ceil(per).max(1);
    let page = q.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).clamp(1, pages);
    let rows = &table.rows[(page - 1) * per..(page * per).min(total)];
    let root = common_root(table.rows.iter().map(|r| r.folder.as_str()));
    let status_col = table.column("_status");

    let mut s = String::with_capacity(256 * rows.len() + 4096);
    let _ = write!(
        s,
        "<p><span id=\"count\">{total}</span> of {} runs pass the filters. Roots relative to <code id=\"common-root\">{}</code>.</p>",
        listing.read,
        esc(&root)
    );
    if total == 0 {
        let _ = write!(s, "<p class=\"err\">No experiments pass the filters.</p>");
        return Ok(s);
    }
    s.push_str("<table class=\"runs\" id=\"runs-table\"><thead><tr><th></th><th>run</th>");
    let sort = q.get("sort").unwrap_or("");
    for &c in &cols {
        let col = &table.columns[c];
        let (next, arrow) = if sort == col.name || sort == col.key {
            (format!("-{}", col.name), " &#9650;")
        } else if sort == format!("-{}", col.name) || sort == format!("-{}", col.key) {
            (col.name.clone(), " &#9660;")
        } else {
            (col.name.clone(), "")
        };
        let sort_q = q.with("sort", &[&next]).with("page", &[]);
        let mut hide: Vec<&str> = hidden.clone();
        hide.push(&col.key);
        let hide_q = q.with("hide", &hide).with("v", &["1"]);
        let _ = write!(
            s,
            "<th data-key=\"{}\"><a class=\"sort\" href=\"/?{}\">{}{arrow}</a><a class=\"hide\" title=\"hide this column\" href=\"/?{}\">&#215;</a></th>",
            esc(&col.key),
            esc(&sort_q.encode()),
            esc(&col.name),
            esc(&hide_q.encode())
        );
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows {
        let name = row.folder.strip_prefix(&root).unwrap_or(&row.folder);
        let _ = write!(
            s,
            "<tr><td><input type=\"checkbox\" class=\"pick\" value=\"{}\"></td><td><a class=\"run\" href=\"/run?{}\">{}</a></td>",
            esc(&row.folder),
            esc(&param("path", &row.folder)),
            esc(name)
        );
        for &c in &cols {
            let cell = row.cells[c].as_ref();
            let text = if table.columns[c].key == "_root" {
                cell.and_then(|v| v.as_str()).map(|r| r.strip_prefix(&root).unwrap_or(r).to_owned()).unwrap_or_default()
            } else {
                core::render::cell_text(cell)
            };
            if Some(c) == status_col {
                let _ = write!(s, "<td>{}</td>", if text.is_empty() { String::new() } else { badge(&text) });
            } else {
                let _ = write!(s, "<td>{}</td>", esc(&core::render::truncate(text, 80)));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table><p class=\"pager\">");
    for (label, target) in
        [("first", 1), ("previous", page.saturating_sub(1).max(1)), ("next", (page + 1).min(pages)), ("last", pages)]
    {
        if target == page {
            let _ = write!(s, "<span class=\"muted\">{label}</span>");
        } else {
            let _ = write!(s, "<a href=\"/?{}\">{label}</a>", esc(&q.with("page", &[&target.to_string()]).encode()));
        }
    }
    let _ = write!(s, "<span id=\"page\">page {page} of {pages}</span></p>");
    if !hidden.is_empty() {
        let _ = write!(
            s,
            "<p>Hidden: {} <a href=\"/?{}\">show all</a></p>",
            esc(&hidden.join(", ")),
            esc(&q.with("hide", &[]).encode())
        );
    }
    Ok(s)
}

/// The inline error of a filter box: the message and a caret under the place.
fn box_error(text: &str, e: &BoxError) -> String {
    format!(
        "<div class=\"err\" id=\"filter-error\">{}\n<span class=\"caret-line\">{}\n{}^ character {}</span></div>",
        esc(&e.message),
        esc(text),
        " ".repeat(e.position),
        e.position + 1
    )
}

/// The whole runs page.
pub fn page(app: &App, q: &Query) -> Result<String, UiError> {
    let table = table_html(app, q)?;
    let filter = q.get("f").unwrap_or("");
    let chosen = q.all("show");
    let first_visit = !q.has("v");
    let mut s = String::new();
    let _ = write!(
        s,
        "<form class=\"filter\" method=\"get\" action=\"/\"><input type=\"hidden\" name=\"v\" value=\"1\">\
         <input type=\"text\" name=\"f\" id=\"filter\" value=\"{}\" placeholder=\"filters as in xmen list -f, separated by ; e.g. lr&lt;0.01; _messages_loss\">\
         <button type=\"submit\" id=\"apply\">apply</button><br>",
        esc(filter)
    );
    for (letter, label, _) in TOGGLES {
        let on = if first_visit { letter == "s" || letter == "m" } else { chosen.contains(&letter) };
        let _ = write!(
            s,
            "<label><input type=\"checkbox\" name=\"show\" value=\"{letter}\"{}> {label}</label> ",
            if on { " checked" } else { "" }
        );
    }
    let per = q.get("per").unwrap_or("50");
    s.push_str(" rows per page: <select name=\"per\" id=\"per\" onchange=\"this.form.submit()\">");
    for n in ["25", "50", "100", "200", "1000"] {
        let _ = write!(s, "<option{}>{n}</option>", if n == per { " selected" } else { "" });
    }
    s.push_str("</select>");
    for (k, v) in &q.0 {
        if matches!(k.as_str(), "sort" | "hide") {
            let _ = write!(s, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v));
        }
    }
    let _ = write!(
        s,
        "</form><p><button type=\"button\" id=\"compare\" onclick=\"xmenCompare()\">compare selected</button> \
         <span class=\"muted\">showing {}</span></p><div id=\"table\" data-live=\"/table?{}\">{table}</div>",
        esc(&app.described),
        esc(&q.encode())
    );
    Ok(crate::html::page("runs", &s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_splits_at_semicolons_outside_quotes() {
        assert_eq!(parse_box("lr<0.01; a=='x;y' ;").unwrap(), vec!["lr<0.01", "a=='x;y'"]);
        assert!(parse_box("  ").unwrap().is_empty());
    }

    #[test]
    fn a_box_error_is_placed_in_the_whole_box() {
        // The second filter's `=` (a single equals) is at its character 2: box character 10.
        let e = parse_box("lr<0.01; a=1").unwrap_err();
        assert!(e.message.contains("`=` is not a comparison"), "{}", e.message);
        assert_eq!(e.position, 9 + "a=1".parse::<Filter>().unwrap_err().position);
    }

    #[test]
    fn the_common_root_ends_at_a_folder() {
        assert_eq!(common_root(["/d/set/a=1", "/d/set/a=2"].into_iter()), "/d/set/");
        assert_eq!(common_root(["/d/set/x"].into_iter()), "/d/set/");
        assert_eq!(common_root(["/d/s1/x", "/d/s2/x"].into_iter()), "/d/");
    }
}
