//! A run's page: status, timestamps, messages and hook cost (refreshed live), purpose, notes (added and removed here through the
//! manager's `note`, the same locked write as `xmen note`), messages, parameters, `_hooks` and
//! `_hooks_cost`, version and git, the checkpoints, the tail of out.txt and the curves.

use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use xmen_core::Value;
use xmen_record::{Record, RecordFile};

use crate::curves::{self, CurveOpts};
use crate::html::{badge, esc, param, Query};
use crate::state::App;
use crate::UiError;

/// How much of out.txt the page shows.
pub const TAIL_BYTES: u64 = 64 * 1024;

fn load(folder: &Path) -> Result<Record, UiError> {
    Record::load(&RecordFile::path_in(folder)).map_err(UiError::Record)
}

fn yaml(v: &Value) -> String {
    xmen_record::yaml::to_string(v).unwrap_or_else(|e| format!("(cannot show: {e})"))
}

fn kv_table(id: &str, rows: &[(String, String)]) -> String {
    let mut s = format!("<table class=\"runs\" id=\"{id}\">");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    s.push_str("</table>");
    s
}

fn text(v: &Value) -> String {
    xmen_manager::list::render::cell_text(Some(v))
}

/// The part that follows the files: status, timestamps and messages.
pub fn live_html(folder: &Path) -> Result<String, UiError> {
    let rec = load(folder)?;
    // A `running` record whose process is gone shows as `lost`, as in `xmen list`.
    let status = xmen_manager::reconcile::effective_status(&rec).as_str().to_owned();
    let mut s = format!("<p>status: <span id=\"status\">{}</span></p>", badge(&status));
    let ts = rec.special("_timestamps").unwrap_or(Value::None);
    let stamps: Vec<(String, String)> = match ts {
        Value::Map(m) => m.into_iter().filter(|(_, v)| *v != Value::None).map(|(k, v)| (k, text(&v))).collect(),
        _ => Vec::new(),
    };
    s.push_str("<h2>Timestamps</h2>");
    s.push_str(&kv_table("timestamps", &stamps));
    s.push_str("<h2>Messages</h2>");
    if rec.messages.is_empty() {
        s.push_str("<p class=\"muted\" id=\"messages\">none yet</p>");
    } else {
        let rows: Vec<(String, String)> = rec.messages.iter().map(|(k, v)| (k.clone(), text(v))).collect();
        s.push_str(&kv_table("messages", &rows));
    }
    // Written when the run ends, so it follows the files too.
    let cost = rec
        .extra
        .iter()
        .find(|e| e.key == xmen_record::hookscost::HOOKS_COST_KEY)
        .map_or_else(|| "(not measured yet: written when the run ends)".to_owned(), |e| yaml(&e.value));
    let _ = write!(s, "<h2>Hook cost</h2><pre id=\"hooks-cost\">{}</pre>", esc(&cost));
    Ok(s)
}

/// The notes, each with a remove button, and the form adding one.
fn notes_html(folder: &Path, rec: &Record) -> String {
    let path = folder.display().to_string();
    let mut s = String::from("<ul id=\"notes\">");
    for n in &rec.notes {
        let _ = write!(
            s,
            "<li><span class=\"note\">{}</span> <form method=\"post\" action=\"/note\" style=\"display:inline\">\
             <input type=\"hidden\" name=\"path\" value=\"{}\"><input type=\"hidden\" name=\"text\" value=\"{}\">\
             <input type=\"hidden\" name=\"remove\" value=\"1\"><button type=\"submit\" class=\"remove-note\">remove</button></form></li>",
            esc(n),
            esc(&path),
            esc(n)
        );
    }
    let _ = write!(
        s,
        "</ul><form method=\"post\" action=\"/note\" id=\"add-note\"><input type=\"hidden\" name=\"path\" value=\"{}\">\
         <input type=\"text\" name=\"text\" id=\"note-text\" size=\"60\" placeholder=\"a note (kept in params.yml, as xmen note does)\">\
         <button type=\"submit\" id=\"note-add\">add note</button></form>",
        esc(&path)
    );
    s
}

/// The last [`TAIL_BYTES`] of out.txt.
pub fn tail(folder: &Path) -> String {
    let path = folder.join("out.txt");
    // A link could point anywhere: only the run's own file is shown.
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => return "(out.txt is a symbolic link: not followed)".into(),
        Ok(_) => {}
        Err(_) => return "(no out.txt yet)".into(),
    }
    let Ok(mut f) = std::fs::File::open(&path) else { return "(no out.txt yet)".into() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(TAIL_BYTES);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(start)).is_err() || f.read_to_end(&mut buf).is_err() {
        return format!("(cannot read {})", path.display());
    }
    let mut t = String::from_utf8_lossy(&buf).into_owned();
    if start > 0 {
        // Start at a whole line.
        if let Some(i) = t.find('\n') {
            t.drain(..=i);
        }
        t.insert_str(0, &format!("... (the first {start} bytes are not shown)\n"));
    }
    esc(&t)
}

/// The files under `{folder}/checkpoints` (relative path, size), names only: nothing is served.
fn checkpoints(folder: &Path) -> Vec<(String, u64)> {
    fn walk(base: &Path, dir: &Path, depth: usize, out: &mut Vec<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth > 0 => walk(base, &p, depth - 1, out),
                Ok(t) if t.is_file() => {
                    let rel = p.strip_prefix(base).unwrap_or(&p).display().to_string();
                    out.push((rel, e.metadata().map(|m| m.len()).unwrap_or(0)));
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    let base = folder.join("checkpoints");
    walk(&base, &base, 4, &mut out);
    out.sort();
    out
}

/// The whole page.
pub fn page(app: &App, folder: &Path, q: &Query, notice: Option<&str>) -> Result<String, UiError> {
    let rec = load(folder)?;
    let path = folder.display().to_string();
    let pq = param("path", &path);
    let mut s = format!("<h1 style=\"font-size:18px\" id=\"run-name\">{}</h1>", esc(&path));
    if let Some(n) = notice {
        let _ = write!(s, "<div class=\"err\" id=\"notice\">{}</div>", esc(n));
    }
    let _ = write!(s, "<section id=\"live\" data-live=\"/run/live?{}\">{}</section>", esc(&pq), live_html(folder)?);
    let _ = write!(
        s,
        "<section><h2>Purpose</h2><p id=\"purpose\">{}</p></section><section><h2>Notes</h2>{}</section>",
        esc(rec.purpose.as_deref().unwrap_or("")),
        notes_html(folder, &rec)
    );
    let opts = CurveOpts::from_query(q);
    let runs = vec![(folder.to_path_buf(), path.clone())];
    let _ = write!(
        s,
        "<section><h2>Curves</h2>{}<div id=\"curves\" data-live=\"/charts?{}\">{}</div></section>",
        curves::controls("/run", q, opts),
        esc(&q.with("runs", &[&path]).with("path", &[]).encode()),
        curves::charts_html(app, &runs, opts)
    );
    let params: Vec<(String, String)> = rec.params.iter().map(|p| (p.name.clone(), text(&p.value))).collect();
    let _ = write!(s, "<section><h2>Parameters</h2>{}</section>", kv_table("params", &params));
    let _ = write!(
        s,
        "<section><h2>out.txt (last {} KiB, following)</h2><pre id=\"tail\" data-live=\"/run/tail?{}\">{}</pre></section>",
        TAIL_BYTES / 1024,
        esc(&pq),
        tail(folder)
    );
    let hooks = rec.hooks.as_ref().map_or_else(|| "(none)".to_owned(), yaml);
    let _ = write!(s, "<section><h2>Hooks</h2><pre id=\"hooks\">{}</pre></section>", esc(&hooks));
    let version = rec.version.as_ref().map_or_else(|| "(none)".to_owned(), yaml);
    let _ = write!(s, "<section><h2>Version and git</h2><pre id=\"version\">{}</pre></section>", esc(&version));
    let cps = checkpoints(folder);
    s.push_str("<section><h2>Checkpoints</h2>");
    if cps.is_empty() {
        s.push_str("<p class=\"muted\" id=\"checkpoints\">none</p>");
    } else {
        let rows: Vec<(String, String)> = cps.into_iter().map(|(n, b)| (n, format!("{b} bytes"))).collect();
        s.push_str(&kv_table("checkpoints", &rows));
    }
    s.push_str("</section>");
    let title = folder.file_name().map_or(path.clone(), |n| n.to_string_lossy().into_owned());
    Ok(crate::html::page(&title, &s))
}

/// Add (or with `remove`, delete) a note on the run at `folder`, through the manager's `note`:
/// the same validation and lock as `xmen note`.
pub fn note(folder: &Path, text: &str, remove: bool) -> Result<(), UiError> {
    if text.trim().is_empty() {
        return Err(UiError::BadRequest("the note is empty; type the text to attach".into()));
    }
    let (Some(root), Some(name)) = (folder.parent(), folder.file_name()) else {
        return Err(UiError::BadRequest(format!("{} is not inside a set", folder.display())));
    };
    let name = name.to_string_lossy();
    // Glob characters in a folder name are escaped so that the pattern selects this folder only.
    let escaped: String =
        name.chars().flat_map(|c| if "*?[]{}\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect();
    let pattern = xmen_manager::Pattern::new(&escaped);
    let done = xmen_manager::ops::note(root, &pattern, text, remove).map_err(UiError::Manager)?;
    if done.matched == 0 {
        return Err(UiError::BadRequest(format!(
            "{} is not managed by the set in {} (unlinked?); nothing was changed",
            name,
            root.display()
        )));
    }
    Ok(())
}
