//! The seed's four XmenMessenger examples, in-process, against real record semantics
//! (keep/leader rules of `xmen_record::Record::message`) held in memory.
#![allow(clippy::unwrap_used, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use xmen::{Capture, ExperimentHandle, Keep, Monitor, Spec, Value, ValueRef};
use xmen_core::monitor::Experiments;
use xmen_hook_messenger::Messenger;
use xmen_record::Record;

#[derive(Clone, Default)]
struct Records(Rc<RefCell<Vec<(String, Record)>>>);

impl Records {
    fn add(&self, dir: &str) -> ExperimentHandle {
        let r = Record { root: Some(dir.into()), ..Default::default() };
        self.0.borrow_mut().push((dir.into(), r));
        ExperimentHandle(self.0.borrow().len() as u64 - 1)
    }
    fn get(&self, h: ExperimentHandle, key: &str) -> Option<Value> {
        self.0.borrow()[h.0 as usize].1.message_value(key).cloned()
    }
}

impl Experiments for Records {
    fn message(
        &self,
        e: ExperimentHandle,
        m: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        let msgs: Vec<(String, Value)> = m.iter().map(|(k, v)| ((*k).to_owned(), v.to_value())).collect();
        self.0.borrow_mut()[e.0 as usize].1.message(&msgs, keep, leader).map(|_| ()).map_err(|e| e.to_string())
    }
    fn info(&self, e: ExperimentHandle) -> Option<(String, String)> {
        self.0.borrow().get(e.0 as usize).map(|(d, _)| (d.clone(), d.clone()))
    }
}

fn masked(out: &Capture) -> Vec<String> {
    let re = regex::Regex::new(r"\d\d:\d\d[AP]M \d\d/\d\d/\d\d").unwrap();
    out.lines().iter().map(|l| re.replace_all(l, "T").into_owned()).collect()
}

fn messenger(spec: &str, keep: Keep, leader: Option<&str>, expand: bool, prepend: bool) -> Messenger {
    Messenger::new(&Spec::parse(spec).unwrap(), keep, leader, expand, prepend).unwrap()
}

fn show(v: Option<Value>) -> String {
    v.map_or("None".into(), |v| v.to_string())
}

#[test]
fn basic_messages_two_experiments_every_ten_steps() {
    let recs = Records::default();
    let out = Capture::new();
    let m = Monitor::builder()
        .hook_at("y.*->ex.*@10s", messenger("y.*->ex.*@10s", Keep::Latest, None, false, false))
        .experiments(recs.clone())
        .output(out.clone())
        .build()
        .unwrap();
    let (ex1, ex2) = (recs.add("/tmp/ex1"), recs.add("/tmp/ex2"));
    m.set("ex1", ex1);
    m.set("ex2", ex2);
    let (mut y1, mut y2) = (0, 0);
    let mut seen = Vec::new();
    for i in m.iter(0..40) {
        y1 += 1;
        y2 += 2;
        m.set("y1", y1);
        m.set("y2", y2);
        if i % 10 == 1 {
            seen.push(format!(
                "{} {} {} {}",
                show(recs.get(ex1, "y1")),
                show(recs.get(ex1, "y2")),
                show(recs.get(ex2, "y1")),
                show(recs.get(ex2, "y2"))
            ));
        }
    }
    assert_eq!(seen, ["None None None None", "10 20 10 20", "20 40 20 40", "30 60 30 60"]);
    let lines = masked(&out);
    assert_eq!(lines[0], "[T 10/40]: Left messages ['y1', 'y2'] with ex1 at /tmp/ex1");
    assert_eq!(lines[1], "[T 10/40]: Left messages ['y1', 'y2'] with ex2 at /tmp/ex2");
    assert_eq!(lines.len(), 8);
    assert_eq!(show(recs.get(ex1, "y1")), "40");
    assert_eq!(show(recs.get(ex1, "s")), "40/40", "the summary is left as messages too");
    assert!(recs.get(ex1, "wall").is_some() && recs.get(ex1, "last").is_some());
}

fn leader_run(spec: &str, leader: &str, expand: bool, prepend: bool, keys: [&str; 3]) -> (Vec<String>, Vec<String>) {
    let recs = Records::default();
    let out = Capture::new();
    let m = Monitor::builder()
        .hook_at(spec, messenger(spec, Keep::Min, Some(leader), expand, prepend))
        .experiments(recs.clone())
        .output(out.clone())
        .build()
        .unwrap();
    let ex = recs.add("/tmp/ex");
    m.set("ex", ex);
    let mut seen = Vec::new();
    let mut x: i64 = 5;
    for i in m.iter(0..100i64) {
        x += 1;
        m.set("z", Value::Map(vec![("x".into(), x.into()), ("y".into(), (x * x).into()), ("i".into(), i.into())]));
        if i % 10 == 1 {
            seen.push(keys.iter().map(|k| show(recs.get(ex, k))).collect::<Vec<_>>().join(" "));
        }
    }
    (seen, masked(&out))
}

#[test]
fn leader_gates_the_whole_batch() {
    let recs = Records::default();
    let out = Capture::new();
    let spec = "^y$|^i$->^ex$@10s";
    let m = Monitor::builder()
        .hook_at(spec, messenger(spec, Keep::Min, Some("^y$"), false, false))
        .experiments(recs.clone())
        .output(out.clone())
        .build()
        .unwrap();
    let ex = recs.add("/tmp/ex");
    m.set("ex", ex);
    let mut x: i64 = -50;
    let mut seen = Vec::new();
    for i in m.iter(0..100i64) {
        x += 1;
        m.set("i", i);
        m.set("y", x * x);
        if i % 10 == 1 {
            seen.push(format!("[{}, {}]", show(recs.get(ex, "i")), show(recs.get(ex, "y"))));
        }
    }
    assert_eq!(
        seen,
        [
            "[None, None]",
            "[9, 1600]",
            "[19, 900]",
            "[29, 400]",
            "[39, 100]",
            "[49, 0]",
            "[49, 0]",
            "[49, 0]",
            "[49, 0]",
            "[49, 0]"
        ]
    );
    assert_eq!(masked(&out)[0], "[T 10/100]: Left messages ['i', 'y'] with ex at /tmp/ex");
}

#[test]
fn expand_sends_map_entries_as_messages() {
    let (seen, lines) = leader_run("z->^ex$@10s", "y", true, false, ["i", "y", "x"]);
    assert_eq!(seen[0], "None None None");
    assert!(seen[1..].iter().all(|s| s == "9 225 15"), "{seen:?}");
    assert_eq!(lines[0], "[T 10/100]: Left messages ['x', 'y', 'i'] with ex at /tmp/ex");
}

#[test]
fn prepend_names_entries_after_their_map() {
    let (seen, lines) = leader_run("z->^ex$@10s", "z_y", true, true, ["z_i", "z_y", "z_x"]);
    assert!(seen[1..].iter().all(|s| s == "9 225 15"), "{seen:?}");
    assert_eq!(lines[0], "[T 10/100]: Left messages ['z_x', 'z_y', 'z_i'] with ex at /tmp/ex");
}

#[test]
fn a_leader_matching_nothing_warns_once_and_does_not_crash() {
    let (seen, lines) = leader_run("z->^ex$@10s", "nothing", true, false, ["i", "y", "x"]);
    assert_eq!(seen.len(), 10);
    assert_eq!(lines.iter().filter(|l| l.contains("WARNING")).count(), 1, "{lines:?}");
}

#[test]
fn without_an_arrow_only_the_summary_is_sent() {
    let recs = Records::default();
    let out = Capture::new();
    let m = Monitor::builder()
        .hook_at("ex@5s", messenger("ex@5s", Keep::Latest, None, false, false))
        .experiments(recs.clone())
        .output(out.clone())
        .build()
        .unwrap();
    let ex = recs.add("/tmp/ex");
    m.set("ex", ex);
    m.set("loss", 1.0);
    for _ in m.iter(0..10) {}
    assert_eq!(show(recs.get(ex, "s")), "10/10", "a spec without -> sends the summary");
    assert!(recs.get(ex, "loss").is_none());
    assert_eq!(masked(&out)[0], "[T 5/10]: Left messages  with ex at /tmp/ex");
}
