//! Issue 13 item 4: killed commands heal. `xmen register` is killed 100 times at random
//! instants; the next command touching the set repairs what each left (complete folders
//! adopted and linked, half-written folders removed), so every run that has a params.yml is
//! listed exactly once: in experiment.yml, in the global `linked` list and by `xmen list`.
//! `xmen move`, `xmen relink` and `xmen unlink` are killed the same way; after each kill the
//! next command touching the set repairs it (or names the one command that does), and the set,
//! its records, its run.sh files and `linked` all agree again.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{describe, read, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs per registration.
const N: usize = 30;

/// A small deterministic generator (xorshift), seeded from the clock and printed on failure.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Folders under `set` (one level, like the set's own) holding a params.yml.
fn with_params(set: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(set)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.join("params.yml").is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn r13_register_killed_100_times_leaves_every_run_listed_exactly_once() {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
    let mut rng = Rng(seed);
    let env = Env::new();
    let set = env.bash_set("set");
    let alts: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    let spawn = |tag: &str| {
        Command::new(env!("CARGO_BIN_EXE_xmen"))
            .args(["register", "-r", &s(&set), "-u", &format!("{{a: {}, b: {tag}}}", alts.join(" | "))])
            .current_dir(env.dir())
            .env("XMEN", env.cfg())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    // The journal appears just before the first folder: wait for it (or the end).
    let pending = set.join(".xmen-pending");
    let wait_journal = |child: &mut std::process::Child| {
        let mine = format!("{}.", child.id());
        let written = || {
            std::fs::read_dir(&pending)
                .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(&mine)))
                .unwrap_or(false)
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !written() && child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::yield_now();
        }
    };
    // How long one registration and its writing phase take here (calibration).
    let mut c = spawn("whole");
    let t0 = Instant::now();
    wait_journal(&mut c);
    let t1 = Instant::now();
    let _ = c.wait();
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let write_phase = micros(t1.elapsed()).max(200);
    let total = micros(t0.elapsed()).max(1000);
    let started = Instant::now();
    let mut killed_mid_way = 0;
    for round in 0..100 {
        let mut child = spawn(&format!("r{round}"));
        if round % 2 == 0 {
            // Even rounds: a random instant of the writing phase.
            wait_journal(&mut child);
            std::thread::sleep(Duration::from_micros(rng.below(write_phase + write_phase / 5)));
        } else {
            // Odd rounds: a random instant of the whole command.
            std::thread::sleep(Duration::from_micros(rng.below(total + total / 5)));
        }
        let _ = child.kill();
        let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
        if !status.success() {
            // Half written: some of this round's folders exist, and not all of them are
            // finished (a whole run.sh is written last).
            let (made, finished) = std::fs::read_dir(&set)
                .map(|d| {
                    let mine: Vec<PathBuf> = d
                        .flatten()
                        .filter(|e| e.file_name().to_string_lossy().ends_with(&format!("__b=r{round}")))
                        .map(|e| e.path())
                        .collect();
                    let whole = |p: &PathBuf| {
                        std::fs::read_to_string(p.join("run.sh"))
                            .is_ok_and(|t| t.trim_end().ends_with("echo EXPERIMENT FINISHED!"))
                    };
                    (mine.len(), mine.iter().filter(|p| whole(p)).count())
                })
                .unwrap_or((0, 0));
            if made > 0 && finished < N {
                killed_mid_way += 1;
            }
        }
    }
    // The next command touching the set repairs it.
    let out = env.run(&["register", "-r", &s(&set), "-u", "{a: final}"]);
    assert!(out.status.success(), "seed {seed}: {}", describe(&out));

    let runs = with_params(&set);
    let yml = read(&set.join("experiment.yml"));
    let listed: Vec<&str> = yml.lines().filter_map(|l| l.strip_prefix("- ")).filter(|l| l.starts_with('/')).collect();
    let linked = env.linked();
    let mut count_yml: HashMap<String, usize> = HashMap::new();
    for l in &listed {
        *count_yml.entry((*l).to_owned()).or_default() += 1;
    }
    let mut count_linked: HashMap<String, usize> = HashMap::new();
    for l in &linked {
        *count_linked.entry(l.clone()).or_default() += 1;
    }
    for r in &runs {
        let k = s(r);
        assert_eq!(count_yml.get(&k), Some(&1), "seed {seed}: {k} in experiment.yml once");
        assert_eq!(count_linked.get(&k), Some(&1), "seed {seed}: {k} linked once");
    }
    assert_eq!(listed.len(), runs.len(), "seed {seed}: experiment.yml lists only folders with a params.yml");
    // No half-written folder and no journal remain.
    let dirs: Vec<PathBuf> = std::fs::read_dir(&set)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    assert_eq!(dirs.len(), runs.len(), "seed {seed}: half-written folders remain: {dirs:?}");
    // `xmen list` shows each run once.
    let out = env.ok(&["list", &s(&set), "--csv"]);
    let rows = out.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
    assert_eq!(rows, runs.len(), "seed {seed}: xmen list rows");
    eprintln!(
        "seed {seed}: 100 kills ({killed_mid_way} with a registration half written) in {:?}; {} runs, each listed once",
        started.elapsed(),
        runs.len()
    );
    // The kill instants are random: most land between registrations, so ask only that some
    // landed mid-way (the run above proves repair from each kind).
    assert!(killed_mid_way >= 1, "seed {seed}: no kill landed mid-registration");
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Whether a journal of process `pid` lies in one of `roots`' `.xmen-pending` folders.
fn journal_of(pid: u32, roots: &[&Path]) -> bool {
    let mine = format!("{pid}.");
    roots.iter().any(|r| {
        std::fs::read_dir(r.join(".xmen-pending"))
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(&mine)))
            .unwrap_or(false)
    })
}

/// Spawn `xmen args` quietly.
fn spawn(env: &Env, args: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_xmen"))
        .args(args)
        .current_dir(env.dir())
        .env("XMEN", env.cfg())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Until a journal of `child` appears in `roots` (or it exits; generous deadline).
fn wait_journal(child: &mut std::process::Child, roots: &[&Path]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !journal_of(child.id(), roots) && child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::yield_now();
    }
}

/// How one uncut command and its journaled phase last here: `(journaled, whole)` in µs.
fn calibrate(env: &Env, args: &[String], roots: &[&Path]) -> (u64, u64) {
    let mut c = spawn(env, args);
    let t0 = Instant::now();
    wait_journal(&mut c, roots);
    let t1 = Instant::now();
    let status = c.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "the uncut calibration command {args:?} failed");
    (micros(t1.elapsed()).max(200), micros(t0.elapsed()).max(1000))
}

/// Spawn `args` and kill it at a random instant: in even rounds within its journaled phase,
/// in odd rounds within the whole command. Returns whether it was killed before it ended and
/// whether it left a journal behind (so was killed mid-operation).
fn kill_randomly(
    env: &Env,
    args: &[String],
    roots: &[&Path],
    (phase, total): (u64, u64),
    rng: &mut Rng,
    round: usize,
) -> (bool, bool) {
    let mut child = spawn(env, args);
    if round % 2 == 0 {
        wait_journal(&mut child, roots);
        std::thread::sleep(Duration::from_micros(rng.below(phase + phase / 5)));
    } else {
        std::thread::sleep(Duration::from_micros(rng.below(total + total / 5)));
    }
    let _ = child.kill();
    let pid = child.id();
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    (!status.success(), journal_of(pid, roots))
}

/// The managed folders experiment.yml lists, and the root it records.
fn set_file(set: &Path) -> (String, Vec<String>) {
    let yml = read(&set.join("experiment.yml"));
    let root = yml.lines().find_map(|l| l.strip_prefix("root: ")).unwrap_or_default().to_owned();
    let mut listed: Vec<String> =
        yml.lines().filter_map(|l| l.strip_prefix("- ")).filter(|l| l.starts_with('/')).map(str::to_owned).collect();
    listed.sort();
    (root, listed)
}

/// Everything about the set at `here` agrees with its place, and nothing names `gone`: the
/// root and entries of experiment.yml, every `_root` and run.sh, `linked` (each run once), no
/// journal and no temporary file left.
fn assert_planted(env: &Env, here: &Path, gone: &Path, n: usize, ctx: &str) {
    let runs = with_params(here);
    assert_eq!(runs.len(), n, "{ctx}: runs with a params.yml under {}", here.display());
    let (root, listed) = set_file(here);
    assert_eq!(root, s(here), "{ctx}: experiment.yml root");
    let want: Vec<String> = runs.iter().map(|r| s(r)).collect();
    assert_eq!(listed, want, "{ctx}: experiment.yml lists each run once");
    let script = format!("{}/script.sh", s(here));
    for r in &runs {
        let params = read(&r.join("params.yml"));
        let root = params.lines().find_map(|l| l.strip_prefix("_root: ")).map(|l| l.split("  #").next().unwrap_or(l));
        assert_eq!(root, Some(&*s(r)), "{ctx}: _root of {}", r.display());
        let run_sh = read(&r.join("run.sh"));
        assert!(run_sh.contains(&script), "{ctx}: {} runs {script}:\n{run_sh}", r.display());
    }
    let linked = env.linked();
    for w in &want {
        assert_eq!(linked.iter().filter(|l| *l == w).count(), 1, "{ctx}: {w} linked once");
    }
    let gone_prefix = format!("{}/", s(gone));
    assert!(!linked.iter().any(|l| l.starts_with(&gone_prefix)), "{ctx}: linked names the old place: {linked:?}");
    // A journal's temporary file (its writer killed before the rename) may stay until a later
    // command finds it abandoned (see `assert_swept`); a journal may not.
    let journals: Vec<String> = std::fs::read_dir(here.join(".xmen-pending"))
        .map(|d| {
            d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|f| !f.starts_with('.')).collect()
        })
        .unwrap_or_default();
    assert!(journals.is_empty(), "{ctx}: journals remain: {journals:?}");
}

/// Temporary files in `set` and its `.xmen-pending` folder.
fn temporaries(set: &Path) -> Vec<String> {
    [set.to_path_buf(), set.join(".xmen-pending")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".tmp"))
        .collect()
}

/// Killed writers' temporary files are removed by later writers of the same file once
/// abandoned (older than a second): poll with commands that write experiment.yml (`relink`)
/// and the set's records and journals (`note`) until none is left (generous deadline).
fn assert_swept(env: &Env, set: &Path, ctx: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        env.ok(&["relink", "-r", &s(set)]);
        env.ok(&["note", "-r", &s(set), "a=2*", "swept"]);
        let left = temporaries(set);
        if left.is_empty() && !set.join(".xmen-pending").exists() {
            return;
        }
        assert!(Instant::now() < deadline, "{ctx}: temporary files of killed writers remain: {left:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs per set in the move, relink and unlink loops.
const SET_RUNS: usize = 24;

/// A set `a` with [`SET_RUNS`] runs, for the move/relink/unlink loops.
fn populated(env: &Env) -> PathBuf {
    let set = env.bash_set("a");
    let alts: Vec<String> = (0..SET_RUNS).map(|i| i.to_string()).collect();
    env.ok(&["register", "-r", &s(&set), "-u", &format!("{{a: {}}}", alts.join(" | "))]);
    set
}

/// The next command touching the set at `here` (rotating through three that heal); when a
/// killed command left nothing to replay (a relink killed before its journal), the command
/// must refuse naming `xmen relink -r HERE`, which is then run.
fn next_command(env: &Env, here: &Path, round: usize) {
    let h = s(here);
    let args: Vec<&str> = match round % 3 {
        0 => vec!["note", "-r", &h, "a=2*", "checked"],
        1 => vec!["clean", "-r", &h, "--yes"],
        _ => vec!["reset", "-r", &h, "a=0"],
    };
    let out = env.run(&args);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let fix = format!("xmen relink -r {h}");
        assert!(err.contains(&fix), "round {round}: {args:?} failed without naming `{fix}`:\n{}", describe(&out));
        env.ok(&["relink", "-r", &h]);
    }
}

#[test]
fn r13_move_killed_at_random_instants_is_finished_by_the_next_command() {
    let seed = clock_seed();
    let mut rng = Rng(seed);
    let env = Env::new();
    let a = populated(&env);
    let b = env.path("b");
    let mv = |from: &Path, to: &Path| vec!["move".to_owned(), "-r".to_owned(), s(from), s(to)];
    let timing = calibrate(&env, &mv(&a, &b), &[&a, &b]);
    assert_planted(&env, &b, &a, SET_RUNS, "calibration");
    let (mut here, mut there) = (b, a);
    let (mut killed, mut mid_way) = (0, 0);
    let started = Instant::now();
    for round in 0..60 {
        let (k, m) = kill_randomly(&env, &mv(&here, &there), &[&here, &there], timing, &mut rng, round);
        killed += usize::from(k);
        mid_way += usize::from(m);
        // The move happened iff its rename did.
        if !here.exists() {
            std::mem::swap(&mut here, &mut there);
        }
        assert!(!there.exists(), "seed {seed} round {round}: both places exist");
        next_command(&env, &here, round);
        assert_planted(&env, &here, &there, SET_RUNS, &format!("seed {seed} round {round}"));
    }
    assert_swept(&env, &here, &format!("seed {seed}"));
    eprintln!("seed {seed}: 60 moves, {killed} killed, {mid_way} mid-move (journal left), in {:?}", started.elapsed());
    assert!(mid_way >= 1, "seed {seed}: no kill landed mid-move");
}

#[test]
fn r13_relink_killed_at_random_instants_is_finished_by_the_next_command() {
    let seed = clock_seed();
    let mut rng = Rng(seed);
    let env = Env::new();
    let a = populated(&env);
    let b = env.path("b");
    let relink = |at: &Path| vec!["relink".to_owned(), "-r".to_owned(), s(at)];
    std::fs::rename(&a, &b).unwrap_or_else(|e| panic!("{e}"));
    let timing = calibrate(&env, &relink(&b), &[&b]);
    assert_planted(&env, &b, &a, SET_RUNS, "calibration");
    let (mut here, mut there) = (b, a);
    let (mut killed, mut mid_way) = (0, 0);
    let started = Instant::now();
    for round in 0..60 {
        // The user moves the set by hand, then relinks it: killed.
        std::fs::rename(&here, &there).unwrap_or_else(|e| panic!("{e}"));
        std::mem::swap(&mut here, &mut there);
        let (k, m) = kill_randomly(&env, &relink(&here), &[&here], timing, &mut rng, round);
        killed += usize::from(k);
        mid_way += usize::from(m);
        next_command(&env, &here, round);
        assert_planted(&env, &here, &there, SET_RUNS, &format!("seed {seed} round {round}"));
    }
    assert_swept(&env, &here, &format!("seed {seed}"));
    eprintln!(
        "seed {seed}: 60 relinks, {killed} killed, {mid_way} mid-relink (journal left), in {:?}",
        started.elapsed()
    );
    assert!(mid_way >= 1, "seed {seed}: no kill landed mid-relink");
}

#[test]
fn r13_unlink_killed_at_random_instants_leaves_the_set_before_or_after() {
    let seed = clock_seed();
    let mut rng = Rng(seed);
    let env = Env::new();
    let set = populated(&env);
    let all = set_file(&set).1;
    let unlink = vec!["unlink".to_owned(), "-r".to_owned(), s(&set), "a=1*".to_owned()];
    let after: Vec<String> = all
        .iter()
        .filter(|p| !Path::new(p).file_name().is_some_and(|n| n.to_string_lossy().starts_with("a=1")))
        .cloned()
        .collect();
    // Calibrate on an uncut unlink (no journal: the whole command is the window).
    let t0 = Instant::now();
    let status = spawn(&env, &unlink).wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let total = micros(t0.elapsed()).max(1000);
    assert_eq!(set_file(&set).1, after);
    let (mut killed, mut before_write, mut after_write) = (0, 0, 0);
    for round in 0..60 {
        env.ok(&["relink", "-r", &s(&set), "-e", "*"]);
        assert_eq!(set_file(&set).1, all, "seed {seed} round {round}: re-adopted");
        let (k, _) = kill_randomly(&env, &unlink, &[&set], (total, total), &mut rng, 1);
        let now = set_file(&set).1;
        assert!(now == all || now == after, "seed {seed} round {round}: neither before nor after: {now:?}");
        if k {
            killed += 1;
            if now == all {
                before_write += 1;
            } else {
                after_write += 1;
            }
        }
        // Not `clean`, which would delete the unlinked folders.
        next_command(&env, &set, [0, 2][round % 2]);
    }
    assert_swept(&env, &set, &format!("seed {seed}"));
    eprintln!(
        "seed {seed}: 60 unlinks, {killed} killed while running ({before_write} before its write, {after_write} after)"
    );
    assert!(killed >= 1, "seed {seed}: no kill landed while unlink ran");
}
