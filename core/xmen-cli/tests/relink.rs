//! `xmen relink` after moves (recursive and not), adopting folders with `-e`, and the config
//! commands that repair the global configuration and `_meta`.

mod common;

use std::path::Path;

use common::{read, top_value, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn relink_recursive_replants_every_set_below_a_moved_folder() {
    let env = Env::new();
    let a = env.bash_set("group/a");
    let (d, sc) = env.bash_experiment();
    env.ok(&["init", "-d", &s(&d), "-s", &s(&sc), "-r", "group/b", "--purpose", "x"]);
    env.ok(&["register", "-r", "group/a", "-u", "{a: x | y}"]);
    env.ok(&["register", "-r", "group/b", "-n", "only"]);
    // a launcher living in the set root is named in script.sh by its absolute path
    std::fs::write(a.join("script.sh"), format!("#!/bin/bash\nexec {}/launcher --execute ${{1}}", s(&a)))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(a.join("launcher"), "#!/bin/bash\necho \"launched $2\"\n").unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(a.join("launcher"), std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::rename(env.path("group"), env.path("moved")).unwrap_or_else(|e| panic!("{e}"));
    let out = env.ok(&["relink", "-r", "moved", "--recursive"]);
    assert_eq!(out.matches("Relinked the set").count(), 2, "{out}");
    let new_a = env.path("moved/a");
    // regenerated in the form xmen writes now: the binary's path quoted, "$1" quoted
    assert_eq!(read(&new_a.join("script.sh")), format!("#!/bin/bash\nexec {}/launcher --execute \"$1\"\n", s(&new_a)));
    for dir in [new_a.join("a=x"), new_a.join("a=y"), env.path("moved/b/only")] {
        assert_eq!(top_value(&dir.join("params.yml"), "_root"), s(&dir));
        assert!(env.linked().contains(&s(&dir)), "{:?}", env.linked());
    }
    assert_eq!(env.linked().len(), 3, "{:?}", env.linked());
    assert!(read(&env.path("moved/b/experiment.yml")).starts_with(&format!("root: {}\n", s(&env.path("moved/b")))));
    let out = env.ok(&["run", "-r", "moved/a", "*", "bash"]);
    assert!(out.contains(&format!("launched {}/a=x/params.yml", s(&new_a))), "{out}");
    // relinking again changes nothing and duplicates nothing
    env.ok(&["relink", "-r", "moved", "--recursive"]);
    assert_eq!(env.linked().len(), 3);
}

#[test]
fn relink_e_adopts_compatible_unmanaged_folders_with_their_overrides() {
    let env = Env::new();
    let set = env.bash_set("set");
    env.ok(&["register", "-r", "set", "-u", "{a: x | y, b: z}"]);
    env.ok(&["unlink", "-r", "set", "*"]);
    // an incompatible folder: a parameter the defaults do not have
    let odd = set.join("odd");
    std::fs::create_dir_all(&odd).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(odd.join("params.yml"), "_status: registered\na: 1\nzzz: 2\n").unwrap_or_else(|e| panic!("{e}"));
    let out = env.run(&["relink", "-r", "set", "-e", "*"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("Relinking") && stdout.contains("a=x__b=z") && stdout.contains("a=y__b=z"), "{stdout}");
    assert!(stderr.contains("Cannot re-link folder") && stderr.contains("zzz"), "{stderr}");
    let yml = read(&set.join("experiment.yml"));
    assert!(yml.contains("overides:\n- a: x\n  b: z\n- a: y\n  b: z\n"), "{yml}");
    let out = env.ok(&["relink", "-r", "set", "-e", "*"]);
    assert!(out.contains("No experiments to link"), "{out}");
}

#[test]
fn config_clean_drops_linked_folders_that_are_gone_and_update_meta_refreshes_meta() {
    let env = Env::new();
    let set = env.bash_set("set");
    env.ok(&["register", "-r", "set", "-u", "{a: x | y}"]);
    std::fs::remove_dir_all(set.join("a=x")).unwrap_or_else(|e| panic!("{e}"));
    let out = env.run_in(env.dir(), &["config", "--clean"], Some("n\n"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Aborting!"));
    assert_eq!(env.linked().len(), 2);
    let out = env.ok(&["config", "--clean", "--yes"]);
    assert!(out.contains(&s(&set.join("a=x"))) && out.contains("1 experiments were successfully removed"), "{out}");
    assert_eq!(env.linked(), [s(&set.join("a=y"))]);

    let out = env.ok(&["config", "--update_meta", "-r", "set"]);
    assert!(out.contains("Updated _meta in 2 files"), "{out}");
    let defaults = read(&set.join("defaults.yml"));
    assert!(defaults.starts_with("_created: 8/2/2021"), "the key order is kept: {defaults}");
    assert!(defaults.contains("_meta: # meta information can also be stored\n  "), "the comment is kept: {defaults}");
    assert!(defaults.contains("  host: "), "{defaults}");
}
