//! The real Logger and Timer libraries, loaded through the loader from a `_hooks` list
//! written in YAML, print what the original's logger.py and Timer print.

use xmen::hooks::{parse_hooks_yaml, HookConfig};
use xmen::Monitor;
use xmen_tests::{built, is_timer_line, loader, mask, scratch, Capture};

const HOOKS_YAML: &str = r#"
_hooks:
  - {hook: logger, spec: "x@2s", options: {join: "|"}}
  - {hook: logger, spec: "y@1e", options: {format: ".5f"}}
  - {hook: timer, spec: "@1e"}
"#;

#[test]
fn a_yaml_hooks_list_reads_as_the_same_configs_written_in_code() {
    let configs = parse_hooks_yaml(HOOKS_YAML, "<test>").unwrap();
    assert_eq!(
        configs,
        [
            HookConfig::new("logger", "x@2s").option("join", "|"),
            HookConfig::new("logger", "y@1e").option("format", ".5f"),
            HookConfig::new("timer", "@1e"),
        ]
    );
}

#[test]
fn the_real_logger_and_timer_load_from_a_yaml_hooks_list_and_print_their_lines() {
    let b = built();
    let tmp = scratch();
    let configs = parse_hooks_yaml(HOOKS_YAML, "<test>").unwrap();
    let out = Capture::new();
    let m =
        Monitor::builder().loader(loader(&[tmp.path(), &b.hooks])).hooks(configs).output(out.clone()).build().unwrap();
    // the original's logger.py.
    let mut y = 0.0;
    m.set("x", vec!["cat", "dog"]);
    for _ in m.iter(0..3) {
        for i in m.iter(0..5) {
            y += f64::from(i);
            m.set("y", y);
        }
    }
    let calls: Vec<(String, u64)> = m.hook_calls().into_iter().map(|(n, _, c, _)| (n, c)).collect();
    assert_eq!(calls, [("logger".into(), 7), ("logger".into(), 3), ("timer".into(), 3)]);
    drop(m);

    let text = out.text();
    for line in text.lines().filter(|l| l.contains("wall=")) {
        assert!(is_timer_line(line), "not a Timer line: {line}");
    }
    let timer = "wall={duration} end={duration} next={duration} step={duration} m_step={duration} load={duration} m_load={duration}";
    let expected = format!(
        "\
[{{time}} 0/3 2/15]: x = cat|dog
[{{time}} 0/3 4/15]: x = cat|dog
[{{time}} 1/3]: y = 10.00000
[{{time}} 1/3]: {timer}
[{{time}} 1/3 6/15]: x = cat|dog
[{{time}} 1/3 8/15]: x = cat|dog
[{{time}} 1/3 10/15]: x = cat|dog
[{{time}} 2/3]: y = 20.00000
[{{time}} 2/3]: {timer}
[{{time}} 2/3 12/15]: x = cat|dog
[{{time}} 2/3 14/15]: x = cat|dog
[{{time}} 3/3]: y = 30.00000
[{{time}} 3/3]: {timer}
"
    );
    assert_eq!(mask(&text), expected, "unmasked:\n{text}");
}

#[test]
fn a_hook_that_declares_directory_gets_the_monitors_folder_whatever_its_name() {
    let b = xmen_tests::built();
    let tmp = xmen_tests::scratch();
    let run = |builder: xmen::MonitorBuilder| {
        let out = xmen_tests::Capture::new();
        let m = builder
            .loader(xmen_tests::loader(&[&b.fixtures]))
            .hooks([
                xmen::hooks::HookConfig::new("where", "@1s"),
                xmen::hooks::HookConfig::new("where", "@1s").option("directory", "/set/by/config"),
            ])
            .output(out.clone())
            .build()
            .unwrap();
        for _ in m.iter(0..1) {}
        drop(m);
        out.text().lines().map(xmen_tests::mask_time).collect::<Vec<_>>()
    };
    let dir = tmp.path().display().to_string();
    assert_eq!(
        run(xmen::Monitor::builder().directory(tmp.path())),
        [format!("[{{time}} 1/1]: directory = {dir}"), "[{time} 1/1]: directory = /set/by/config".to_owned()]
    );
    // No folder, nothing provided: the hook sees none.
    assert_eq!(run(xmen::Monitor::builder())[0], "[{time} 1/1]: directory = none");
}
