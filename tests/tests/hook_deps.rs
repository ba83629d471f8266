//! Issue 12: every first-party hook library links the hook author's crate (and small format
//! crates) alone: `cargo tree` of each shows no CLI parser, no record crate, no loader, no
//! experiment SDK and no signal handling.

use std::process::Command;

use xmen_tests::workspace_root;

/// Crates a hook library must never link.
const FORBIDDEN: [&str; 7] = ["clap", "xmen", "xmen-record", "xmen-loader", "xmen-manager", "signal-hook", "ctrlc"];

#[test]
fn r12_every_first_party_hook_links_xmen_hook_alone() {
    let manifest = workspace_root().join("Cargo.toml");
    let hooks = ["logger", "timer", "messenger", "probe", "tensorboard", "checkpointer", "early-stop"];
    for hook in hooks {
        let package = format!("xmen-hook-{hook}");
        let out = Command::new(env!("CARGO"))
            .args(["tree", "--offline", "-e", "normal", "--prefix", "none", "-p", &package, "--manifest-path"])
            .arg(&manifest)
            .output()
            .unwrap();
        let tree = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
        let names: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
        assert!(names.contains(&"xmen-hook"), "{package} links xmen-hook:\n{tree}");
        let bad: Vec<&&str> = names.iter().filter(|n| FORBIDDEN.contains(n)).collect();
        assert!(bad.is_empty(), "{package} links {bad:?}:\n{tree}");
    }
}
