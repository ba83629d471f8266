//! `xmen list` end to end: the real binary, `XMEN` pointing at a temporary configuration whose
//! xmen.yml links generated experiment folders (params.yml in the layout `xmen register` writes).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { tmp: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")) }
    }

    fn cfg(&self) -> PathBuf {
        self.tmp.path().join("cfg")
    }

    fn set(&self) -> PathBuf {
        self.tmp.path().join("set")
    }

    /// Write experiment folders under `set/` and link them (plus `extra_linked` entries).
    fn experiments(&self, exps: &[(String, String)], extra_linked: &[&str]) -> Vec<PathBuf> {
        let mut linked = String::from("prompt: false\nlinked:\n");
        let mut folders = Vec::new();
        for (name, params) in exps {
            let folder = self.set().join(name);
            fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
            fs::write(folder.join("params.yml"), params).unwrap_or_else(|e| panic!("{e}"));
            linked.push_str(&format!("- {}\n", folder.display()));
            folders.push(folder);
        }
        for l in extra_linked {
            linked.push_str(&format!("- {l}\n"));
        }
        fs::create_dir_all(self.cfg()).unwrap_or_else(|e| panic!("{e}"));
        fs::write(self.cfg().join("xmen.yml"), linked).unwrap_or_else(|e| panic!("{e}"));
        folders
    }

    fn xmen(&self, cwd: &Path, args: &[&str]) -> (String, String, bool) {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_xmen"))
            .arg("list")
            .args(args)
            .env("XMEN", self.cfg())
            .env("NO_COLOR", "1")
            .current_dir(cwd)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.success(),
        )
    }
}

fn params(root: &Path, a: &str, b: &str, lr: f64) -> String {
    format!(
        "_root: {}  # The root directory of the experiment\n_status: registered # One of ['default' | 'created' | 'running' | 'error' | 'finished']\n\
         _purpose: sweep # A description of the experiment purpose\n_notes: # Notes attached to the experiment\n\
         _user: tester # The user of the experiment\n_host: testhost # The name of the default host\n\
         _timestamps: # timestamps attached to the experiment\n  created: 26-11-27-17-59-25-862242\n  start:\n  stopped:\n  last:\n  registered: 26-11-27-17-59-25-862242\n\
         _messages: {{}} # Messages left by the experiment\n_version: # Experiment version information. See `get_version`\n  path: /data/xrun/xmen/examples\n\
         _meta: # The global configuration for the experiment manager\n  mac: '0x2fc00000001'\n  host: localhost\n  user: root\n  home: /data/xrun/home\n\
         a: {a} # a: str='Hello' ~ The first argument\nb: {b} # b: str='World' ~ The second argument\nlr: {lr:?} # lr: float=0.1\n",
        root.display()
    )
}

fn sweep(env: &Env) -> Vec<PathBuf> {
    let mut exps = Vec::new();
    for (a, b, lr) in
        [("Hello", "World", 0.001), ("Hello", "Planet", 0.1), ("Bye", "World", 0.005), ("Bye", "Planet", 0.5)]
    {
        let name = format!("a={a}__b={b}");
        exps.push((name.clone(), params(&env.set().join(&name), a, b, lr)));
    }
    env.experiments(&exps, &[])
}

/// The data lines of a table (after `Roots relative to` and the header).
fn data_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().skip(2).collect()
}

#[test]
fn filters_select_columns_and_and_rows() {
    let env = Env::new();
    let f = sweep(&env);
    let (out, err, ok) = env.xmen(&env.set(), &["-s", "-f", "a=='Hello'"]);
    assert!(ok, "{err}");
    // the roots' common folder is printed once, the roots relative to it (issue 14)
    assert!(out.starts_with(&format!("Roots relative to {}\n", env.set().display())), "{out}");
    let header: Vec<&str> = out.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["root", "status", "a"]);
    let rows = data_lines(&out);
    assert_eq!(rows.len(), 2, "{out}");
    let name = f[0].file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    assert!(rows[0].starts_with("0 ") && rows[0].contains(&format!(" {name} ")) && rows[0].ends_with("Hello"));
    assert!(rows[1].starts_with("1 ") && rows[1].contains("registered"));

    // AND-ed conditions, a look-ahead and a comparison of text with a number (false)
    let (out, err, ok) = env.xmen(&env.set(), &["-f", "lr<0.01", "-f", "b=='World'", "-f", "(?!_).*"]);
    assert!(ok, "{err}");
    let rows = data_lines(&out);
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].starts_with("0 ") && rows[1].starts_with("2 "), "{out}");
    let (out, _, ok) = env.xmen(&env.set(), &["-f", "a<3"]);
    assert!(!ok && out.starts_with("No experiments found: none of the 4 experiments"), "{out}");

    // CSV and JSON hold whole values
    let (out, _, ok) = env.xmen(&env.set(), &["-f", "lr", "--csv", "--sort=-lr"]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], ",root,lr");
    assert_eq!(lines[1], format!("3,{},0.5", f[3].display()));
    let (out, _, ok) = env.xmen(&env.set(), &["-f", "lr>=0.1", "--json"]);
    assert!(ok);
    assert_eq!(
        out,
        format!(
            "[\n  {{\"root\": \"{}\", \"lr\": 0.1}},\n  {{\"root\": \"{}\", \"lr\": 0.5}}\n]\n",
            f[1].display(),
            f[3].display()
        )
    );

    // a path argument and --pattern (the whole regex, not its first character), and a glob
    let (out, _, _) = env.xmen(env.tmp.path(), &["set/a=Bye__b=World/.."]);
    assert_eq!(data_lines(&out).len(), 4, "{out}");
    let pattern = f[2].display().to_string();
    let (out, _, _) = env.xmen(Path::new("/"), &["--pattern", &pattern]);
    assert_eq!(data_lines(&out).len(), 1, "{out}");
    let glob = format!("{}/a=Bye*", env.set().display());
    let (out, _, _) = env.xmen(Path::new("/"), &[&glob, "-N"]);
    assert!(
        out.contains("  |- a=Bye__b=World\n  |- a=Bye__b=Planet\n") && out.contains("Purpose:\n  sweep\n"),
        "{out}"
    );
}

#[test]
fn duplicate_links_are_listed_once_and_bad_filters_explain_the_fix() {
    let env = Env::new();
    let f = sweep(&env);
    let dup = f[0].display().to_string();
    let exps: Vec<(String, String)> = f
        .iter()
        .map(|p| {
            (
                p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                fs::read_to_string(p.join("params.yml")).unwrap_or_default(),
            )
        })
        .collect();
    env.experiments(&exps, &[&dup, &format!("{dup}/")]);
    let (out, _, ok) = env.xmen(&env.set(), &[]);
    assert!(ok);
    assert_eq!(data_lines(&out).len(), 4, "{out}");

    let (out, err, ok) = env.xmen(&env.set(), &["-f", "0.01<lr<0.1"]);
    assert!(!ok && out.is_empty());
    assert!(err.contains("invalid filter `0.01<lr<0.1`") && err.contains("-f \"lr>0.001\" -f \"lr<0.1\""), "{err}");
    let (_, err, ok) = env.xmen(&env.set(), &["-f", "a==Hello"]);
    assert!(!ok && err.contains("a=='Hello'"), "{err}");
    let (_, err, ok) = env.xmen(&env.set(), &["--sort", "nope"]);
    assert!(!ok && err.contains("cannot sort by `nope`"), "{err}");
}

#[test]
fn one_corrupt_params_yml_among_1000_is_a_row_that_names_the_file() {
    let env = Env::new();
    let mut exps = Vec::new();
    for i in 0..1000 {
        let name = format!("e{i:04}");
        let text = if i == 500 {
            "_status: registered\nlr: [0.1\n  a: : b\n".to_owned()
        } else {
            params(&env.set().join(&name), "Hello", "World", 0.001 * i as f64)
        };
        exps.push((name, text));
    }
    env.experiments(&exps, &[]);
    let bad = env.set().join("e0500").join("params.yml").display().to_string();
    for run in ["cold", "warm"] {
        let (out, err, ok) = env.xmen(&env.set(), &["-f", "lr"]);
        assert!(ok, "{run}: {err}");
        let rows = data_lines(&out);
        assert_eq!(rows.len(), 1000, "{run}");
        let marked: Vec<&&str> = rows.iter().filter(|r| r.contains("unreadable")).collect();
        assert_eq!(marked.len(), 1, "{run}");
        // the cell is shortened in the middle: the file's folder shows, the whole path is on stderr
        assert!(marked[0].starts_with("500 ") && marked[0].contains("e0500"), "{run}: {}", marked[0]);
        assert!(
            err.contains("1 params.yml could not be read") && err.contains(&bad) && err.contains("invalid YAML"),
            "{run}: {err}"
        );
        assert_eq!(rows.iter().filter(|r| r.contains("e0999")).count(), 1);
    }
    assert!(env.cfg().join("cache").join("list-index.bin").is_file());
}

#[test]
fn a_same_size_rewrite_within_the_second_is_never_hidden_by_the_index() {
    let env = Env::new();
    let f = sweep(&env);
    let file = f[0].join("params.yml");
    let (out, _, _) = env.xmen(&env.set(), &["-f", "lr"]);
    assert!(out.contains("0.001"), "{out}");
    assert!(env.cfg().join("cache").join("list-index.bin").is_file());
    let before = fs::metadata(&file).unwrap_or_else(|e| panic!("{e}"));
    let mtime = before.modified().unwrap_or_else(|e| panic!("{e}"));
    // the same size, in place (same inode), and the old mtime put back
    let text = fs::read_to_string(&file).unwrap_or_default().replace("lr: 0.001", "lr: 0.002");
    fs::write(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let handle = fs::File::options().write(true).open(&file).unwrap_or_else(|e| panic!("{e}"));
    handle.set_modified(mtime).unwrap_or_else(|e| panic!("{e}"));
    drop(handle);
    let after = fs::metadata(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((after.len(), after.modified().ok()), (before.len(), Some(mtime)));
    let (out, err, ok) = env.xmen(&env.set(), &["-f", "lr"]);
    assert!(ok, "{err}");
    assert!(out.contains("0.002") && !out.contains("0.001"), "{out}");
    // and again through the index written by that run
    let (out, _, _) = env.xmen(&env.set(), &["-f", "lr"]);
    assert!(out.contains("0.002") && !out.contains("0.001"), "{out}");
    // a corrupt index is rebuilt
    fs::write(env.cfg().join("cache").join("list-index.bin"), b"junk").unwrap_or_else(|e| panic!("{e}"));
    let (out, _, ok) = env.xmen(&env.set(), &["-f", "lr"]);
    assert!(ok && out.contains("0.002"), "{out}");
}

#[test]
fn empty_results_print_a_message_and_exit_non_zero() {
    let env = Env::new();
    env.experiments(&[], &[]);
    let (out, _, ok) = env.xmen(env.tmp.path(), &[]);
    assert!(!ok && out.starts_with("No experiments found: no experiments are linked"), "{out}");
    sweep(&env);
    let (out, _, ok) = env.xmen(env.tmp.path(), &["--pattern", "/nowhere"]);
    assert!(!ok && out.contains("No experiments found") && out.contains("`/nowhere`"), "{out}");
    let (out, err, ok) = env.xmen(&env.set(), &["-f", "lr>10", "--json"]);
    assert!(!ok && out == "[]\n" && err.contains("`lr>10`"), "{out} {err}");
    // r13: an unclosed bracket is literal, and the message says so
    let (out, _, ok) = env.xmen(env.tmp.path(), &["tt/[["]);
    assert!(!ok && out.contains("its `[` at character 4 is never closed"), "{out}");
}

#[test]
fn an_experiment_folder_prints_its_record() {
    let env = Env::new();
    let f = sweep(&env);
    for (cwd, args) in [(f[1].clone(), vec![]), (env.set(), vec!["a=Hello__b=Planet"])] {
        let (out, err, ok) = env.xmen(&cwd, &args);
        assert!(ok, "{err}");
        let want = format!(
            "Content of {}/params.yml\nroot: {}\nstatus: registered\npurpose: sweep\nuser: tester\nhost: testhost\n\
             timestamps:\n  created: 26-11-27-17-59-25-862242\n  registered: 26-11-27-17-59-25-862242\nmessages:\n\
             version:\n  path: /data/xrun/xmen/examples\nmeta:\n  mac: 0x2fc00000001\n  host: localhost\n  user: root\n  home: /data/xrun/home\n\
             parameters:\n  a: Hello\n  b: Planet\n  lr: 0.1\n",
            f[1].display(),
            f[1].display()
        );
        assert_eq!(out, want);
    }
    // underscore spellings of the original are accepted
    let (out, err, ok) = env.xmen(&env.set(), &["--max_width", "8", "--max_rows", "2", "--display_status"]);
    assert!(ok, "{err}");
    assert!(out.contains("...") && out.ends_with("[4 rows x 2 columns]\n"), "{out}");
}
