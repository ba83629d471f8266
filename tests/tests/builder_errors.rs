//! Bad arguments to `Monitor::builder()`: positioned spec errors naming the argument,
//! and option counts that match neither one nor one per spec. No library is loaded.

use xmen::hooks::{HookConfig, LoadError};
use xmen::{BuildError, Hook, HookResult, Monitor, Outcome};
use xmen_tests::{loader, scratch};

fn spec_error(b: xmen::MonitorBuilder) -> (&'static str, String, usize, String) {
    let Some(err) = b.build().err() else { panic!("expected a spec error, the Monitor was built") };
    let text = err.to_string();
    match err {
        BuildError::Spec { argument, error } => (argument, error.spec, error.column, text),
        _ => panic!("expected a spec error, got {text}"),
    }
}

#[test]
fn malformed_log_specs_report_the_argument_the_spec_and_the_column() {
    let u64_overflow = format!("x@{}0s", u64::MAX);
    // (spec, column, the end of the message)
    let cases: [(&str, usize, &str); 9] = [
        ("loss@10x", 8, "unknown trigger \"x\" at column 8; expected one of s, e, er, eo, se"),
        ("", 1, "a spec needs a variable regex, '@', a modulo and a trigger, e.g. \"loss@100s\""),
        ("@", 2, "no modulo after '@' at column 2; write a positive number such as \"@10s\""),
        ("@0s", 2, "modulo 0 at column 2; the modulo must be at least 1"),
        ("a@@1s", 3, "a second '@' at column 3; a spec has exactly one '@'"),
        (&u64_overflow, 3, "is too large; the largest is 18446744073709551615"),
        ("(@1s", 1, "invalid regex \"(\" at column 1: "),
        ("xx@10", 6, "no trigger at column 6; add one of"),
        ("xx@s", 4, "no modulo after '@' at column 4"),
    ];
    for (spec, column, tail) in cases {
        let (argument, got_spec, got_column, text) = spec_error(Monitor::builder().log(spec));
        assert_eq!((argument, got_spec.as_str(), got_column), ("log", spec, column), "{text}");
        let head = format!("Monitor argument `log`: invalid spec \"{spec}\": ");
        assert!(text.starts_with(&head) && text.contains(tail), "{spec:?}: {text}");
    }
}

struct Quiet;
impl Hook for Quiet {
    fn call(&mut self, _: &xmen::Firing<'_>) -> HookResult {
        Ok(Outcome::Continue)
    }
}

#[test]
fn malformed_time_limit_and_hook_specs_name_their_argument() {
    let (argument, _, column, text) = spec_error(Monitor::builder().time("@1x"));
    assert_eq!((argument, column), ("time", 3), "{text}");
    let (argument, _, column, text) = spec_error(Monitor::builder().limit("@10x"));
    assert_eq!((argument, column), ("limit", 4), "{text}");
    let (argument, _, column, text) = spec_error(Monitor::builder().hook_at("a@@1s", Quiet));
    assert_eq!((argument, column), ("hooks", 3), "{text}");
    let err = Monitor::builder().hook(Quiet).build().err().unwrap();
    assert!(err.to_string().contains("hook Quiet declares no spec; give it one with `.hook_at("), "{err}");
}

#[test]
fn a_log_format_count_mismatch_names_both_counts() {
    let err = Monitor::builder()
        .log("a@1s")
        .log("b@1s")
        .log("c@1s")
        .log_format(".1f")
        .log_format(".2f")
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, BuildError::Count { option: "log_format", given: 2, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "Either one log_format or one for each of the 3 specs [\"a@1s\", \"b@1s\", \"c@1s\"] must be set: 2 given"
    );
}

#[test]
fn a_malformed_spec_in_a_hooks_list_is_reported_with_the_other_load_failures() {
    let tmp = scratch();
    let err = Monitor::builder()
        .loader(loader(&[tmp.path()]))
        .hooks([HookConfig::new("logger", "loss@10x"), HookConfig::new("absent", "x@1s")])
        .build()
        .err()
        .unwrap();
    let BuildError::Load(errors) = &err else { panic!("expected load errors, got {err}") };
    assert!(matches!(&errors.0[..], [LoadError::Spec { .. }, LoadError::NotFound { .. }]), "{err}");
    let text = err.to_string();
    assert!(text.contains("hook \"logger\": invalid spec \"loss@10x\": unknown trigger \"x\" at column 8"), "{text}");
}
