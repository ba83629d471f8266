//! Comparing runs: their curves overlaid per tag, one colour per run, with a legend of the
//! parameters that differ between them; and a scatter of a parameter against a message or a
//! final scalar.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use xmen_core::Value;
use xmen_record::{Record, RecordFile};

use crate::chart::{self, Dot};
use crate::curves::{self, CurveOpts};
use crate::html::{esc, Query};
use crate::state::App;
use crate::UiError;

fn text(v: &Value) -> String {
    xmen_manager::list::render::cell_text(Some(v))
}

/// The parameters whose values are not the same in every record (in first-seen order).
pub fn differing(records: &[Record]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        for p in &r.params {
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
        }
    }
    names.retain(|n| {
        let first = records.first().and_then(|r| r.get(n));
        records.iter().any(|r| r.get(n) != first)
    });
    names
}

/// The compare page for the runs in the query's `runs=`.
pub fn page(app: &App, q: &Query) -> Result<String, UiError> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for r in q.all("runs") {
        let f = app.run_folder(r)?;
        if !folders.contains(&f) {
            folders.push(f);
        }
    }
    if folders.is_empty() {
        return Err(UiError::BadRequest(
            "no runs to compare: tick runs in the table, then press `compare selected`".into(),
        ));
    }
    let records: Vec<Record> = folders
        .iter()
        .map(|f| Record::load(&RecordFile::path_in(f)).map_err(UiError::Record))
        .collect::<Result<_, _>>()?;
    let diff = differing(&records);
    let root = crate::table::common_root(folders.iter().filter_map(|f| f.to_str()));
    let labels: Vec<String> = folders
        .iter()
        .map(|f| {
            let p = f.display().to_string();
            p.strip_prefix(&root).unwrap_or(&p).to_owned()
        })
        .collect();

    let mut s = format!(
        "<p>{} runs; parameters that differ: {}</p><div class=\"legend\" id=\"legend\">",
        folders.len(),
        esc(&diff.join(", "))
    );
    for (i, (r, label)) in records.iter().zip(&labels).enumerate() {
        let params: Vec<String> =
            diff.iter().map(|n| format!("{n}={}", r.get(n).map(text).unwrap_or_default())).collect();
        let _ = write!(
            s,
            "<span class=\"legend-item\"><i class=\"swatch\" style=\"background:{}\"></i><a href=\"/run?{}\">{}</a> {}</span>",
            chart::colour(i),
            esc(&crate::html::param("path", &folders[i].display().to_string())),
            esc(label),
            esc(&params.join(", "))
        );
    }
    s.push_str("</div>");

    let opts = CurveOpts::from_query(q);
    let runs: Vec<(PathBuf, String)> = folders.iter().cloned().zip(labels.iter().cloned()).collect();
    let _ = write!(
        s,
        "<section><h2>Curves</h2>{}<div id=\"curves\" data-live=\"/charts?{}\">{}</div></section>",
        curves::controls("/compare", q, opts),
        esc(&q.encode()),
        curves::charts_html(app, &runs, opts)
    );
    s.push_str(&scatter_section(app, q, &folders, &records, &labels, &diff));
    Ok(crate::html::page("compare", &s))
}

/// The scatter of a parameter (`x=`) against a message or final scalar (`y=`).
fn scatter_section(
    app: &App,
    q: &Query,
    folders: &[PathBuf],
    records: &[Record],
    labels: &[String],
    diff: &[String],
) -> String {
    let mut params: Vec<String> = diff.to_vec();
    for r in records {
        for p in &r.params {
            if !params.contains(&p.name) {
                params.push(p.name.clone());
            }
        }
    }
    let finals: Vec<_> = folders.iter().map(|f| curves::final_scalars(app, f)).collect();
    let mut metrics: BTreeSet<String> = BTreeSet::new();
    for r in records {
        for (k, v) in &r.messages {
            if v.as_f64().is_some() {
                metrics.insert(format!("message {k}"));
            }
        }
    }
    for f in &finals {
        metrics.extend(f.keys().map(|t| format!("final {t}")));
    }
    let x = q.get("x").map(str::to_owned).or_else(|| params.first().cloned()).unwrap_or_default();
    let y = q.get("y").map(str::to_owned).or_else(|| metrics.iter().next().cloned()).unwrap_or_default();
    let mut s = String::from(
        "<section><h2>Parameter against result</h2><form method=\"get\" action=\"/compare\" id=\"scatter-form\">",
    );
    for r in q.all("runs") {
        let _ = write!(s, "<input type=\"hidden\" name=\"runs\" value=\"{}\">", esc(r));
    }
    s.push_str("x: <select name=\"x\" onchange=\"this.form.submit()\">");
    for p in &params {
        let _ = write!(s, "<option{}>{}</option>", if *p == x { " selected" } else { "" }, esc(p));
    }
    s.push_str("</select> y: <select name=\"y\" onchange=\"this.form.submit()\">");
    for m in &metrics {
        let _ = write!(s, "<option{}>{}</option>", if *m == y { " selected" } else { "" }, esc(m));
    }
    s.push_str("</select></form>");
    if x.is_empty() || y.is_empty() {
        s.push_str("<p class=\"muted\">No parameter or no numeric message or scalar to plot yet.</p></section>");
        return s;
    }
    let xs: Vec<Option<Value>> = records.iter().map(|r| r.get(&x).cloned()).collect();
    let numeric = xs.iter().flatten().all(|v| matches!(v, Value::Int(_) | Value::Float(_)));
    let mut cats: Vec<String> = Vec::new();
    if !numeric {
        for v in xs.iter().flatten() {
            let t = text(v);
            if !cats.contains(&t) {
                cats.push(t);
            }
        }
    }
    let mut dots = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let yv = if let Some(m) = y.strip_prefix("message ") {
            r.message_value(m).and_then(Value::as_f64)
        } else {
            y.strip_prefix("final ").and_then(|t| finals[i].get(t).copied())
        };
        let xv = match &xs[i] {
            Some(v) if numeric => v.as_f64(),
            Some(v) => cats.iter().position(|c| *c == text(v)).map(|p| p as f64),
            None => None,
        };
        if let (Some(xv), Some(yv)) = (xv, yv) {
            dots.push(Dot {
                x: xv,
                y: yv,
                colour: chart::colour(i),
                label: format!("{}: {x}={}, {y}={yv}", labels[i], xs[i].as_ref().map(text).unwrap_or_default()),
            });
        }
    }
    let _ = write!(
        s,
        "<div class=\"chart-box\" id=\"scatter\">{}</div></section>",
        chart::scatter(&format!("{y} against {x}"), &x, &y, &dots, (!numeric).then_some(cats.as_slice()))
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_record::Param;

    #[test]
    fn only_parameters_that_vary_are_in_the_legend() {
        let a = Record::new(vec![Param::new("lr", 0.1, ""), Param::new("epochs", 2, "")]);
        let b = Record::new(vec![Param::new("lr", 0.01, ""), Param::new("epochs", 2, "")]);
        assert_eq!(differing(&[a.clone(), b]), vec!["lr"]);
        assert!(differing(&[a]).is_empty());
    }
}
