//! HTML helpers: escaping, query strings and the page frame (style and the one small script).

use std::fmt::Write as _;

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query string's pairs in order (repeated keys kept: `runs=a&runs=b`).
#[derive(Clone, Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parse `a=1&b=2` (no leading `?`).
    pub fn parse(raw: Option<&str>) -> Query {
        Query(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// Whether `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// This query with every `key` replaced by `values` (none: removed).
    pub fn with(&self, key: &str, values: &[&str]) -> Query {
        let mut q: Vec<(String, String)> = self.0.iter().filter(|(k, _)| k != key).cloned().collect();
        q.extend(values.iter().map(|v| (key.to_owned(), (*v).to_owned())));
        Query(q)
    }

    /// The encoded query string (no leading `?`).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// One query parameter, encoded (`key=value`).
pub fn param(key: &str, value: &str) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair(key, value).finish()
}

const STYLE: &str = r#"
body{font-family:"DejaVu Sans",sans-serif;font-size:14px;margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:bold}
main{padding:12px 16px}
table.runs{border-collapse:collapse;background:#fff;font-size:13px}
table.runs th,table.runs td{border:1px solid #ddd;padding:3px 6px;text-align:left;white-space:nowrap}
table.runs th a{color:#222;text-decoration:none}
table.runs th .hide{color:#999;margin-left:4px;font-weight:normal}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;color:#fff;background:#78909c}
.badge.finished{background:#2e7d32}.badge.running{background:#f9a825;color:#222}.badge.error,.badge.unreadable{background:#c62828}
.badge.timeout,.badge.requeue{background:#00838f}.badge.stopped{background:#6a1b9a}.badge.lost{background:#4e342e}
.badge.registered{background:#546e7a}
.err{background:#ffebee;border:1px solid #c62828;padding:6px 10px;margin:6px 0;white-space:pre-wrap;font-family:"DejaVu Sans Mono",monospace}
.filter input[type=text]{width:60%;font-family:"DejaVu Sans Mono",monospace}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto;max-height:400px}
section{margin:14px 0}
h2{font-size:16px;margin:10px 0 6px}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart-box{background:#fff;border:1px solid #ddd;display:inline-block}
.legend span{display:inline-block;margin-right:14px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
.muted{color:#777}
.pager a,.pager span{margin-right:8px}
"#;

/// The script every page carries: elements with `data-live="URL"` are refreshed from `URL`
/// every second while the page is visible (checked boxes inside are kept), so statuses,
/// messages, the out.txt tail and curves follow the files without a reload.
const SCRIPT: &str = r#"
async function xmenLive(){
  if(document.hidden)return;
  for(const el of document.querySelectorAll('[data-live]')){
    if(el.dataset.busy)continue;
    el.dataset.busy='1';
    try{
      const r=await fetch(el.dataset.live,{credentials:'same-origin',cache:'no-store'});
      if(r.ok){
        const t=await r.text();
        if(t!==el.dataset.last){
          const checked=[...el.querySelectorAll('input[type=checkbox]:checked')].map(c=>c.value);
          const atEnd=el.scrollTop+el.clientHeight>=el.scrollHeight-4;
          el.innerHTML=t;el.dataset.last=t;
          for(const c of el.querySelectorAll('input[type=checkbox]'))if(checked.includes(c.value))c.checked=true;
          if(atEnd)el.scrollTop=el.scrollHeight;
        }
      }
    }catch(e){}finally{delete el.dataset.busy}
  }
}
setInterval(xmenLive,1000);
for(const el of document.querySelectorAll('pre[data-live]'))el.scrollTop=el.scrollHeight;
function xmenCompare(){
  const q=[...document.querySelectorAll('input.pick:checked')].map(c=>'runs='+encodeURIComponent(c.value));
  if(q.length===0){alert('Select runs with the boxes in the first column first.');return}
  location.href='/compare?'+q.join('&');
}
"#;

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + 4096);
    let _ = write!(
        s,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{} - xmen ui</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">xmen ui</a><span>{}</span></header><main>{body}</main>\
         <script>{SCRIPT}</script></body></html>",
        esc(title),
        esc(title)
    );
    s
}

/// A status badge.
pub fn badge(status: &str) -> String {
    let class: String = status.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("<span class=\"badge {class}\">{}</span>", esc(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(esc("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }

    #[test]
    fn a_query_keeps_repeated_keys_and_replaces_one() {
        let q = Query::parse(Some("runs=%2Fa%20b&runs=%2Fc&sort=-lr"));
        assert_eq!(q.all("runs"), vec!["/a b", "/c"]);
        assert_eq!(q.with("sort", &["x"]).encode(), "runs=%2Fa+b&runs=%2Fc&sort=x");
        assert_eq!(q.with("runs", &[]).encode(), "sort=-lr");
    }
}
