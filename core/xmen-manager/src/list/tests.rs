//! Table construction and rendering, end to end over real files (without the index).

use std::fs;
use std::path::Path;

use super::*;

const HELLO: &str = "_root: /data/xrun/exps2/a=Hello__b=World\n_status: registered\n_purpose: ''\n_notes:\n\
                     _user: tester\n_host: testhost\n_timestamps:\n  created: 26-11-27-17-59-25-862242\n  start:\n\
                     \x20 stopped:\n  last:\n  registered: 26-11-27-17-59-25-862242\n_messages: {}\n\
                     _version:\n  path: /data/xrun/xmen/examples\n_meta:\n  mac: '0x2fc00000001'\n  host: localhost\n\
                     a: Hello\nb: World\n";

fn planet() -> String {
    HELLO.replace("b=World", "b=Planet").replace("b: World", "b: Planet").replace("862242", "865314")
}

struct Fixture {
    _dir: tempfile::TempDir,
    folders: Vec<String>,
}

fn fixture(files: &[(&str, String)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut folders = Vec::new();
    for (name, text) in files {
        let folder = dir.path().join(name);
        fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
        fs::write(folder.join("params.yml"), text).unwrap_or_else(|e| panic!("{e}"));
        folders.push(folder.display().to_string());
    }
    Fixture { _dir: dir, folders }
}

fn table(fx: &Fixture, toggles: &[&str], user: &[&str]) -> Table {
    let user: Vec<String> = user.iter().map(|s| (*s).to_owned()).collect();
    let spec = ListSpec::new(toggles, &user).unwrap_or_else(|e| panic!("{e}"));
    table_of(fx, &spec)
}

fn table_of(fx: &Fixture, spec: &ListSpec) -> Table {
    let opts = IndexOptions { racy_window_ns: 0, threads: 1 };
    list(&fx.folders, &fx.folders, spec, None, opts).unwrap_or_else(|e| panic!("{e}")).table
}

fn names(t: &Table) -> Vec<&str> {
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

fn column<'a>(t: &'a Table, key: &str) -> Vec<Option<&'a Value>> {
    t.rows.iter().map(|r| t.cell(r, key)).collect()
}

#[test]
fn the_originals_status_and_date_table_is_reproduced() {
    let fx = fixture(&[("x", HELLO.to_owned()), ("y", planet())]);
    let t = table(&fx, &[DISPLAY_DATE, DISPLAY_STATUS], &[]);
    assert_eq!(names(&t), ["root", "status", "created", "start", "stopped", "last", "registered"]);
    // pandas' layout (the recorded transcript of the original lost one leading space of the
    // header line).
    let want = "                                 root      status                   created start stopped last                registered\n\
                0   /data/xrun/exps2/a=Hello__b=World  registered  26-11-27-17-59-25-862242                     26-11-27-17-59-25-862242\n\
                1  /data/xrun/exps2/a=Hello__b=Planet  registered  26-11-27-17-59-25-865314                     26-11-27-17-59-25-865314\n";
    assert_eq!(render_text(&t, &RenderOptions::default()), want);
}

#[test]
fn filters_select_columns_and_and_their_conditions() {
    let bye = HELLO.replace("a: Hello", "a: Bye");
    let fx = fixture(&[("x", HELLO.to_owned()), ("y", planet()), ("z", bye)]);
    // -f "a=='Hello'" -s keeps the 2 matching rows with status and a
    let t = table(&fx, &[DISPLAY_STATUS], &["a=='Hello'"]);
    assert_eq!(names(&t), ["root", "status", "a"]);
    assert_eq!(t.rows.len(), 2);
    // several -f filters must all hold (AND)
    let t = table(&fx, &[], &["a=='Hello'", "b=='Planet'"]);
    assert_eq!(t.rows.iter().map(|r| r.index).collect::<Vec<_>>(), [1]);
    // a string against a number is false, never an error
    let t = table(&fx, &[], &["a<3"]);
    assert!(t.rows.is_empty());
    // no column filter: only root; a look-ahead shows every parameter
    assert_eq!(names(&table(&fx, &[], &[])), ["root"]);
    assert_eq!(names(&table(&fx, &[], &["(?!_).*"])), ["root", "a", "b"]);
    assert_eq!(
        names(&table(&fx, &[DISPLAY_META, DISPLAY_VERSION, DISPLAY_PURPOSE], &[])),
        ["root", "purpose", "mac", "host", "path"]
    );
}

#[test]
fn missing_cells_compare_false_except_not_equal() {
    let fx = fixture(&[("x", "lr: 0.001\n".to_owned()), ("y", "other: 1\n".to_owned()), ("z", "lr: 0.1\n".to_owned())]);
    let t = table(&fx, &[], &["lr<0.01"]);
    assert_eq!(t.rows.iter().map(|r| r.index).collect::<Vec<_>>(), [0]);
    let t = table(&fx, &[], &["lr!=0.1"]);
    assert_eq!(t.rows.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(column(&t, "lr"), [Some(&Value::Float(0.001)), None]);
}

#[test]
fn columns_are_ordered_and_messages_renamed() {
    let text =
        "_status: finished\n_messages:\n  loss: 0.5\n  e: 3\n_meta:\n  slurm:\n    JobId: 7\n    Partition: gpu\n\
                _version:\n  git:\n    commit: abc\nz: 1\ny: 2\n";
    let fx = fixture(&[("x", text.to_owned())]);
    let t = table(&fx, &[DISPLAY_STATUS, DISPLAY_MESSAGES, DISPLAY_VERSION], &["_messages_.*", "_meta_slurm", "(?!_)"]);
    assert_eq!(names(&t), ["root", "status", "z", "y", "loss", "e", "sJobId", "git_commit"]);
}

#[test]
fn an_unreadable_file_is_a_row_that_says_so() {
    let fx = fixture(&[("x", "lr: 0.1\n".to_owned()), ("bad", "lr: [0.1\n".to_owned()), ("y", "lr: 0.2\n".to_owned())]);
    let t = table(&fx, &[], &["lr>0.15"]);
    // the bad row survives the predicate: nothing can be evaluated on it
    assert_eq!(t.rows.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(names(&t), ["root", "status", "lr", "error"]);
    let bad = &t.rows[0];
    assert_eq!(t.cell(bad, "_status"), Some(&Value::Str(UNREADABLE.into())));
    let why = bad.unreadable.clone().unwrap_or_default();
    assert!(why.contains("bad/params.yml") && why.contains("invalid YAML"), "{why}");
    let text = render_text(&t, &RenderOptions { max_width: 500, ..RenderOptions::default() });
    assert!(text.contains("unreadable") && text.contains("bad/params.yml"), "{text}");
}

#[test]
fn sort_and_type_pick_and_order_rows() {
    let fx = fixture(&[
        ("x", "_version:\n  module: m\n  class: A\nlr: 0.1\n".to_owned()),
        ("y", "_version:\n  module: m\n  class: B\nlr: 0.001\n".to_owned()),
        ("z", "_version:\n  crate: rusty\nlr: x\n".to_owned()),
    ]);
    let mut spec = ListSpec::new(&[], &["lr".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
    spec.sort = Some("lr".parse().unwrap_or_else(|e: std::convert::Infallible| match e {}));
    assert_eq!(table_of(&fx, &spec).rows.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 0, 2]);
    spec.sort = Some(SortKey { column: "lr".into(), descending: true });
    assert_eq!(table_of(&fx, &spec).rows.iter().map(|r| r.index).collect::<Vec<_>>(), [2, 0, 1]);
    spec.sort = Some(SortKey { column: "nope".into(), descending: false });
    let err = list(&fx.folders, &fx.folders, &spec, None, IndexOptions::default()).err();
    assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("cannot sort by `nope`"));
    spec.sort = None;
    for (types, want) in [(vec!["m.B"], vec![1]), (vec!["A", "rusty"], vec![0, 2]), (vec!["m"], vec![0, 1])] {
        spec.types = types.into_iter().map(str::to_owned).collect();
        assert_eq!(table_of(&fx, &spec).rows.iter().map(|r| r.index).collect::<Vec<_>>(), want);
    }
}

#[test]
fn the_set_type_of_experiment_yml_counts_for_type() {
    let fx = fixture(&[("set/a", "lr: 1\n".to_owned())]);
    let set = Path::new(&fx.folders[0]).parent().map(Path::to_path_buf).unwrap_or_default();
    fs::write(set.join("experiment.yml"), "root: x\ntype: HelloWorld\n").unwrap_or_else(|e| panic!("{e}"));
    let mut spec = ListSpec::new(&[], &[]).unwrap_or_else(|e| panic!("{e}"));
    spec.types = vec!["HelloWorld".into()];
    assert_eq!(table_of(&fx, &spec).rows.len(), 1);
    spec.types = vec!["Other".into()];
    assert_eq!(table_of(&fx, &spec).rows.len(), 0);
}

fn small_table() -> Table {
    let col = |k: &str, n: &str| Column { key: k.into(), name: n.into() };
    let row = |i: usize, root: &str, status: &str, lr: Value| Row {
        index: i,
        folder: root.into(),
        cells: vec![Some(Value::Str(root.into())), Some(Value::Str(status.into())), Some(lr)],
        unreadable: None,
    };
    Table {
        columns: vec![col("_root", "root"), col("_status", "status"), col("lr", "lr")],
        rows: vec![
            row(0, "/s/a", "finished", Value::Float(1e-5)),
            row(1, "/s/bbbbbbbbbbbbbbbbbbbb", "error", Value::Str("x, \"y\"".into())),
            row(12, "/s/c", "running", Value::None),
        ],
    }
}

#[test]
fn text_tables_truncate_limit_rows_and_colour() {
    let t = small_table();
    let opts = RenderOptions { max_width: 10, ..RenderOptions::default() };
    let want = "          root    status      lr\n\
                0         /s/a  finished   1e-05\n\
                1   /s/b...bbb     error  x, \"y\"\n\
                12        /s/c   running        \n";
    assert_eq!(render_text(&t, &opts), want);
    let cut = render_text(&t, &RenderOptions { max_rows: Some(2), ..opts });
    assert_eq!(cut.lines().nth(2).map(str::trim), Some("...   ...       ...    ..."), "{cut}");
    assert!(cut.ends_with("\n[3 rows x 3 columns]\n"), "{cut}");
    let colour = render_text(&t, &RenderOptions { colour: true, ..opts });
    assert!(colour.contains("\x1b[32mfinished\x1b[0m") && colour.contains("\x1b[31merror\x1b[0m"), "{colour}");
    let table = [
        (5, "abcdefgh", "a...h"),
        (8, "abcdefgh", "abcdefgh"),
        (2, "abcdefgh", ".."),
        (4, "héllo", "h..."),
        (5, "héllo!", "h...!"),
    ];
    for (w, text, want) in table {
        assert_eq!(render::truncate(text.to_owned(), w), want);
    }
}

#[test]
fn csv_and_json_hold_whole_values() {
    let t = small_table();
    assert_eq!(
        render_csv(&t),
        ",root,status,lr\n0,/s/a,finished,1e-05\n1,/s/bbbbbbbbbbbbbbbbbbbb,error,\"x, \"\"y\"\"\"\n12,/s/c,running,\n"
    );
    assert_eq!(
        render_json(&t),
        "[\n  {\"root\": \"/s/a\", \"status\": \"finished\", \"lr\": 1e-05},\n  \
         {\"root\": \"/s/bbbbbbbbbbbbbbbbbbbb\", \"status\": \"error\", \"lr\": \"x, \\\"y\\\"\"},\n  \
         {\"root\": \"/s/c\", \"status\": \"running\", \"lr\": null}\n]\n"
    );
    assert_eq!(render_json(&Table::default()), "[]\n");
}

#[test]
fn notebook_mode_summarises_each_set() {
    let with_git = HELLO
        .replace(
            "  path: /data/xrun/xmen/examples\n",
            "  path: /p\n  git:\n    local: /repo\n    branch: main\n    commit: abc\n",
        )
        .replace("_notes:\n", "_notes:\n- first\n")
        .replace("  last:\n", "  last: 26-11-27-18-00-29-395697\n");
    let fx = fixture(&[("x", HELLO.to_owned()), ("y", with_git), ("z", planet())]);
    let mut filters: Vec<&str> = NOTEBOOK_FILTERS.to_vec();
    filters.push(DISPLAY_STATUS);
    let t = table(&fx, &filters, &[]);
    let want = "\n0:/data/xrun/exps2\n  |- a=Hello__b=World\n  |- a=Hello__b=World\n  |- a=Hello__b=Planet\n\
                Last: 26-11-27-18-00-29-395697\nGit:\n  /repo\n  main\n  abc\nPurpose:\n  \nNotes:\n  first\n\n";
    assert_eq!(render_notebook(&t, None), want);
}
