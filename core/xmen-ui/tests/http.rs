//! The HTTP API of `xmen ui`, served in-process over a real socket to a set made by the
//! manager (init + register) in a temporary folder: the token, the Host check, runs outside
//! the linked sets, filter errors, notes (the same locked write as `xmen note`), and curves
//! read from an event file while it is being appended to.

#![allow(clippy::unwrap_used, missing_docs)] // tests fail loudly on purpose

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use xmen_manager::{init, register, InitOpts, InitSource, RegisterOpts};
use xmen_ui::server::Ctx;
use xmen_ui::App;

const TOKEN: &str = "test-token-0123456789";

struct Fixture {
    port: u16,
    runs: Vec<PathBuf>,
    base: PathBuf,
}

/// One set of four runs and one server for the whole test binary (`$XMEN` is process-wide).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        // In the target's temporary folder (the fixture lives as long as the process), made anew.
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xmen-ui-http");
        let _ = std::fs::remove_dir_all(&base);
        let cfg = base.join("cfg");
        std::fs::create_dir_all(&cfg).unwrap();
        // Set before any thread reads it: the manager's note heals the set through $XMEN.
        std::env::set_var("XMEN", &cfg);
        let src = base.join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("defaults.yml"),
            "_version:\n  path: /bin/true\n_meta: {}\nlr: 0.001 # lr: float=0.001 ~ The learning rate\nepochs: 10 # epochs: int=10 ~ Passes\n",
        )
        .unwrap();
        std::fs::write(src.join("script.sh"), "#!/bin/bash\necho ${1}\n").unwrap();
        let root = base.join("set");
        init(&InitOpts {
            root: root.clone(),
            source: InitSource::Files { defaults: Some(src.join("defaults.yml")), script: Some(src.join("script.sh")) },
            purpose: "http tests".into(),
            kind: None,
        })
        .unwrap();
        let mut opts = RegisterOpts::new(&root, &cfg);
        opts.sweep = Some("{lr: 0.1 | 0.01, epochs: 2 | 4}".parse().unwrap());
        let report = register(&opts).unwrap();
        let mut runs: Vec<PathBuf> = report.folders.clone();
        runs.sort();
        // A folder with an out.txt that is not linked: never to be served.
        std::fs::create_dir_all(base.join("secret")).unwrap();
        std::fs::write(base.join("secret").join("out.txt"), "SECRET").unwrap();

        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let port = listener.local_addr().unwrap().port();
                let app = App::new(cfg, &[], Path::new("/"), TOKEN.into(), xmen_ui::auth::allowed_hosts("127.0.0.1", port));
                tx.send(port).unwrap();
                axum::serve(listener, xmen_ui::router(Arc::new(Ctx { app, port }))).await.unwrap();
            });
        });
        let port = rx.recv().unwrap();
        Fixture { port, runs, base }
    })
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let f = fixture();
    let mut s = TcpStream::connect(("127.0.0.1", f.port)).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{}\r\n", f.port));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply { status, head: head.to_owned(), body: body.to_owned() }
}

fn get(target: &str) -> Reply {
    request("GET", target, &[("Authorization", &format!("token {TOKEN}"))], "")
}

fn q(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[test]
fn a_request_without_the_token_is_refused_and_the_token_once_sets_a_cookie() {
    let f = fixture();
    assert_eq!(request("GET", "/", &[], "").status, 401);
    assert_eq!(request("GET", "/table", &[("Authorization", "token wrong-token-000000000")], "").status, 401);
    let first = request("GET", &format!("/?token={TOKEN}&f=lr"), &[], "");
    assert_eq!(first.status, 303, "{}", first.head);
    let head = first.head.to_ascii_lowercase();
    assert!(head.contains("location: /?f=lr"), "the token leaves the address: {head}");
    let cookie = format!("xmen_ui_token_{}={TOKEN}", f.port);
    assert!(
        head.contains(&format!("set-cookie: {}; path=/; httponly; samesite=strict", cookie.to_ascii_lowercase())),
        "{head}"
    );
    let page = request("GET", "/?f=lr", &[("Cookie", &format!("other=1; {cookie}"))], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"runs-table\""));
    // A cookie for another port's server does not open this one.
    let other = format!("xmen_ui_token_{}={TOKEN}", f.port.wrapping_add(1));
    assert_eq!(request("GET", "/", &[("Cookie", &other)], "").status, 401);
}

#[test]
fn a_host_header_naming_another_server_is_refused_even_with_the_token() {
    let f = fixture();
    let auth = format!("token {TOKEN}");
    for host in
        ["evil.example:80".to_owned(), format!("evil.example:{}", f.port), "127.0.0.1".to_owned(), String::new()]
    {
        let r = request("GET", "/", &[("Host", &host), ("Authorization", &auth)], "");
        assert_eq!(r.status, 400, "{host}: {}", r.body);
    }
    for host in [format!("localhost:{}", f.port), format!("127.0.0.1:{}", f.port)] {
        assert_eq!(request("GET", "/", &[("Host", &host), ("Authorization", &auth)], "").status, 200, "{host}");
    }
}

#[test]
fn paths_outside_the_linked_runs_are_never_served() {
    let f = fixture();
    let secret = f.base.join("secret");
    let escape = format!("{}/../secret", f.runs[0].display());
    for target in [
        format!("/run?path={}", q("/etc")),
        format!("/run/tail?path={}", q(&secret.display().to_string())),
        format!("/run/tail?path={}", q(&escape)),
        format!("/run/live?path={}", q(&f.base.display().to_string())),
        format!("/charts?runs={}&runs={}", q(&f.runs[0].display().to_string()), q(&secret.display().to_string())),
        format!("/compare?runs={}", q("/")),
        "/../../etc/passwd".to_owned(),
    ] {
        let r = get(&target);
        assert_eq!(r.status, 404, "{target}: {}", r.body);
        assert!(!r.body.contains("SECRET"), "{target}");
    }
    let ok = get(&format!("/run/tail?path={}", q(&f.runs[0].display().to_string())));
    assert_eq!(ok.status, 200);
    // A run's out.txt that links elsewhere is not followed.
    let linked = f.runs[0].join("out.txt");
    let _ = std::fs::remove_file(&linked);
    std::os::unix::fs::symlink(secret.join("out.txt"), &linked).unwrap();
    let r = get(&format!("/run/tail?path={}", q(&f.runs[0].display().to_string())));
    assert!(r.body.contains("symbolic link") && !r.body.contains("SECRET"), "{}", r.body);
    std::fs::remove_file(&linked).unwrap();
}

#[test]
fn a_bad_filter_is_answered_inline_with_its_position() {
    let r = get(&format!("/table?f={}", q("lr<0.05; epochs=2")));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"filter-error\""), "{}", r.body);
    assert!(r.body.contains("`=` is not a comparison"), "{}", r.body);
    // `epochs=2` starts at character 10 of the box; its `=` is character 16.
    assert!(r.body.contains("^ character 16"), "{}", r.body);
    let good = get(&format!("/table?v=1&show=s&f={}&sort=-epochs", q("lr<0.05; epochs")));
    assert!(good.body.contains("<span id=\"count\">2</span>"), "{}", good.body);
    let rows: Vec<&str> = good.body.split("<tr><td>").skip(1).collect();
    assert!(rows[0].contains("epochs=4") && rows[1].contains("epochs=2"), "sorted descending: {}", good.body);
    let sort = get(&format!("/table?sort={}", q("nosuch")));
    assert!(sort.body.contains("cannot sort by `nosuch`"), "{}", sort.body);
}

#[test]
fn a_note_added_and_removed_in_the_page_changes_params_yml() {
    let f = fixture();
    let run = f.runs[1].display().to_string();
    let params = f.runs[1].join("params.yml");
    let form = format!("path={}&text={}", q(&run), q("diverged after epoch 3"));
    let headers =
        [("Authorization", format!("token {TOKEN}")), ("Content-Type", "application/x-www-form-urlencoded".into())];
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = request("POST", "/note", &h, &form);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(std::fs::read_to_string(&params).unwrap().contains("diverged after epoch 3"));
    assert!(get(&format!("/run?path={}", q(&run))).body.contains("<span class=\"note\">diverged after epoch 3</span>"));
    let r = request("POST", "/note", &h, &format!("{form}&remove=1"));
    assert_eq!(r.status, 303);
    assert!(!std::fs::read_to_string(&params).unwrap().contains("diverged after epoch 3"));
    // An empty note is refused with a message; a form from another origin is refused.
    let r = request("POST", "/note", &h, &format!("path={}&text=+", q(&run)));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("the note is empty"));
    let mut cross = h.clone();
    cross.push(("Origin", "http://evil.example"));
    assert_eq!(request("POST", "/note", &cross, &form).status, 403);
    assert!(!std::fs::read_to_string(&params).unwrap().contains("diverged"));
}

#[test]
fn curves_follow_an_event_file_while_it_is_appended_to() {
    let f = fixture();
    // runs[3]: the compare test writes into the first three.
    let run = &f.runs[3];
    let dir = run.join("summaries");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.out.tfevents.1700000000.test.1.0");
    let mut bytes = Vec::new();
    for i in 0..50 {
        let mut e = Vec::new();
        xmen_tfevents::encode_scalar_event(
            &mut e,
            1.7e9 + f64::from(i),
            i64::from(i),
            &["loss".into()],
            &[1.0 / (1.0 + i as f32)],
        );
        xmen_tfevents::frame(&mut bytes, &e);
    }
    let cut = bytes.len() - 5; // the last record half written
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let url = format!("/charts?runs={}", q(&run.display().to_string()));
    let count = |body: &str| {
        body.split("data-tag=\"loss\"")
            .nth(1)?
            .split("points=\"")
            .nth(1)
            .map(|p| p.split('"').next().unwrap().split_whitespace().count())
    };
    let before = get(&url);
    assert_eq!(before.status, 200);
    assert!(before.body.contains("data-tag=\"loss\""), "{}", before.body);
    assert_eq!(count(&before.body), Some(49), "{}", before.body);
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&bytes[cut..]).unwrap();
    file.flush().unwrap();
    assert_eq!(count(&get(&url).body), Some(50));
    let relative = get(&format!("{url}&axis=relative&smooth=0.9"));
    assert!(relative.body.contains("relative time (s)"));
}

#[test]
fn compare_draws_one_line_per_run_and_names_the_differing_parameters() {
    let f = fixture();
    for (i, run) in f.runs.iter().enumerate().take(3) {
        let dir = run.join("summaries");
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = Vec::new();
        for s in 0..20 {
            let mut e = Vec::new();
            xmen_tfevents::encode_scalar_event(
                &mut e,
                1.7e9 + f64::from(s),
                i64::from(s),
                &["acc".into()],
                &[s as f32 * (i + 1) as f32],
            );
            xmen_tfevents::frame(&mut bytes, &e);
        }
        std::fs::write(dir.join("events.out.tfevents.1700000001.cmp.1.0"), bytes).unwrap();
    }
    let runs: Vec<String> = f.runs.iter().take(3).map(|r| format!("runs={}", q(&r.display().to_string()))).collect();
    let r = get(&format!("/compare?{}&x=lr&y={}", runs.join("&"), q("final acc")));
    assert_eq!(r.status, 200, "{}", r.body);
    let acc = r.body.split("data-tag=\"acc\"").nth(1).unwrap().split("</svg>").next().unwrap();
    assert_eq!(acc.matches("<polyline").count(), 3, "{acc}");
    assert!(
        r.body.contains("parameters that differ: epochs, lr") || r.body.contains("parameters that differ: lr, epochs"),
        "{}",
        r.body
    );
    assert_eq!(r.body.matches("class=\"dot\"").count(), 3, "{}", r.body);
}
