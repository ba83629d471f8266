//! The whole boundary in one process: a root module built by the same glue `export_hooks!`
//! uses, loaded through its library header, a hook constructed, fired, asked for every host
//! service and closed. This runs every `unsafe` block of the module (the header, the lifetime
//! casts).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::*;
use crate::hook::{
    Firing, Hook, HookError, HookResult, Host, Keep, NewHook, Options, Outcome, Reply, Request, RunEnd, RunStatus,
    Snapshot, VarsView,
};
use crate::spec::{Spec, Trigger};
use crate::value::{DType, ExperimentHandle, StateDict, StateHandle, Tensor, Value};
use crate::valueref::ValueRef;
use abi_stable::library::{LibHeader, RootModuleResult};
use std::cell::RefCell;

/// Logs what it sees and asks the host for every service it offers.
struct Probe {
    closes_with_panic: bool,
}

impl Hook for Probe {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        let vars: Vec<String> = f.vars().map(|(k, v)| format!("{k}={v}")).collect();
        f.log(&format!("{:?} at {:?} step {}", vars, f.trigger(), f.step()));
        let host = f.host();
        let summary = host.summary(true);
        host.print(&format!("summary {summary:?}"));
        let e = ExperimentHandle(7);
        let tags = Value::List(vec![Value::Int(1)]);
        let msgs = [("loss", ValueRef::Float(0.5)), ("tags", ValueRef::from(&tags))];
        host.message(e, &msgs, Keep::Min, Some("^loss$")).map_err(HookError::new)?;
        host.message_with_summary(e, &msgs[..1], &msgs[1..], Keep::Max, None).map_err(HookError::new)?;
        host.print(&format!("info {:?}", host.experiment_info(e)));
        let meta = Value::Map(vec![("cpu".into(), Value::Int(4))]);
        host.update_meta(e, ValueRef::from(&meta)).map_err(HookError::new)?;
        let snap = host.state(StateHandle(3)).map_err(HookError::new)?;
        host.print(&format!("state {} {:?}", snap.type_name, snap.state.tensors[0].1.shape));
        if let Err(e) = host.update_meta(e, ValueRef::Int(1)) {
            host.print(&format!("refused: {e}"));
        }
        Ok(Outcome::Warn(format!("{} vars", f.len())))
    }

    fn close(&mut self, end: &RunEnd, host: &dyn Host) -> HookResult {
        host.print(&format!("closed {} {:?}", end.status, end.reason));
        if !self.closes_with_panic {
            // Replies that hand a value over, decoded on this side.
            let params = host.run_params("/runs/ex").map_err(HookError::new)?;
            host.print(&format!("params {params:?}"));
            let meta = host.system_meta(&["cpu", "gpu"]).map_err(HookError::new)?;
            host.print(&format!("meta {meta}"));
        }
        if self.closes_with_panic {
            std::panic::panic_any(7_u8);
        }
        Ok(Outcome::Continue)
    }
}

impl NewHook for Probe {
    const NAME: &'static str = "probe";
    const HELP: &'static str = "asks for everything";
    fn new(spec: &Spec, options: &Options<'_>) -> Result<Probe, HookError> {
        if spec.to_string().starts_with("bad") {
            return Err(HookError::new("bad spec").with_help("use another"));
        }
        Ok(Probe { closes_with_panic: options.bool("panic")?.unwrap_or(false) })
    }
}

struct Set;
impl HookSet for Set {
    fn entries() -> Vec<HookEntry> {
        vec![HookEntry::of::<Probe>()]
    }
}

extern "C" fn erased_root_module() -> RootModuleResult {
    call_root_module_loader(|| root_module::<Set>("test-lib", "9.9.9"))
}

static HEADER: LibHeader = lib_header(erased_root_module);

fn library() -> HookLibRef {
    HEADER.init_root_module::<HookLibRef>().unwrap()
}

/// A host that records every request and answers each with a fixed reply.
#[derive(Default)]
struct Recorder {
    seen: RefCell<Vec<String>>,
}

impl Host for Recorder {
    fn request(&self, request: Request<'_>) -> Reply {
        let show = |v: &[(&str, ValueRef<'_>)]| v.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let (line, reply) = match request {
            Request::Print(l) => (format!("print {l}"), Reply::Done),
            Request::Log(l) => (format!("log {l}"), Reply::Done),
            Request::Summary { verbose } => {
                (format!("summary {verbose}"), Reply::Summary(vec![("last".into(), "now".into())]))
            }
            Request::Stop(m) => (format!("stop {m}"), Reply::Done),
            Request::Message { experiment, messages, keep, leader } => {
                (format!("message {} [{}] {keep} {leader:?}", experiment.0, show(messages)), Reply::Done)
            }
            Request::MessageWithSummary { experiment, summary, messages, keep, leader } => (
                format!("both {} [{}] [{}] {keep} {leader:?}", experiment.0, show(summary), show(messages)),
                Reply::Done,
            ),
            Request::ExperimentInfo(e) => {
                (format!("info {}", e.0), Reply::ExperimentInfo(Some(("ex".into(), "/runs/ex".into()))))
            }
            Request::UpdateMeta { experiment, meta } => (format!("meta {} {meta}", experiment.0), Reply::Done),
            Request::RunParams { directory } => {
                let t = Tensor { dtype: DType::F32, shape: vec![1], data: vec![0, 0, 128, 63] };
                let params = Value::Map(vec![
                    ("lr".into(), Value::Float(0.5)),
                    ("n".into(), Value::Int(-3)),
                    ("tags".into(), Value::List(vec![Value::Bool(true), Value::None, Value::from("x")])),
                    ("w".into(), Value::Tensor(t)),
                    ("img".into(), Value::Image(vec![1, 2])),
                    ("e".into(), Value::Experiment(ExperimentHandle(9))),
                ]);
                (format!("run_params {directory}"), Reply::Value(params))
            }
            Request::SystemMeta { groups } => {
                let meta = Value::Map(groups.iter().map(|g| ((*g).to_owned(), Value::Map(Vec::new()))).collect());
                (format!("system_meta {groups:?}"), Reply::Value(meta))
            }
            Request::State(s) => {
                let t = Tensor { dtype: DType::F32, shape: vec![2], data: vec![0; 8] };
                let snap = Snapshot {
                    type_name: "Model".into(),
                    state: StateDict { tensors: vec![("w".into(), t)], metadata: Vec::new() },
                };
                (format!("state {}", s.0), Reply::State(snap))
            }
        };
        self.seen.borrow_mut().push(line);
        reply
    }
}

fn fire(hook: &mut LibraryHook, host: &Recorder, vars: &[(&str, ValueRef<'_>)]) -> Result<Outcome, CallFailure> {
    let firing =
        Firing { trigger: Trigger::from_index(0), counters: [3, 1, 0, 0, 0], vars: VarsView::Native(vars), host };
    hook.call_ffi(&firing)
}

#[test]
fn a_library_header_loads_its_own_root_module() {
    let lib = library();
    let versions = (lib.library().as_str(), lib.version().as_str(), lib.sdk_version().as_str());
    assert_eq!(versions, ("test-lib", "9.9.9", SDK_VERSION));
    let hooks = (lib.describe())();
    assert_eq!(
        hooks.iter().map(|h| (h.name.as_str(), h.help.as_str())).collect::<Vec<_>>(),
        [("probe", "asks for everything")]
    );
}

#[test]
fn every_host_service_crosses_the_boundary_and_back() {
    let mut hook = LibraryHook::new(library(), "probe", "x@1s", &[]).unwrap();
    let host = Recorder::default();
    let list = Value::List(vec![Value::Int(1), Value::Str("a".into())]);
    let map = Value::Map(vec![("k".into(), Value::Float(0.5))]);
    let names: Vec<String> = (0..9).map(|i| format!("v{i}")).collect();
    let mut many: Vec<(&str, ValueRef<'_>)> = names.iter().map(|n| (n.as_str(), ValueRef::Int(1))).collect();
    many.push(("m", ValueRef::from(&map)));
    // Twice with scalars (the second firing shorter than the first), with a list (released after
    // the call), and with ten variables ending in a map (the reused buffer grows).
    for vars in [
        vec![("x", ValueRef::Int(1)), ("y", ValueRef::Str("s"))],
        vec![("x", ValueRef::Int(2))],
        vec![("x", ValueRef::from(&list))],
        many,
    ] {
        let outcome = fire(&mut hook, &host, &vars).map_err(|e| format!("{e:?}")).unwrap();
        assert_eq!(outcome, Outcome::Warn(format!("{} vars", vars.len())));
    }
    let seen = host.seen.take();
    let first: Vec<&str> = seen.iter().take(11).map(String::as_str).collect();
    assert_eq!(
        first,
        [
            "log [\"x=1\", \"y=s\"] at Some(Step) step 3",
            "summary true",
            "print summary [(\"last\", \"now\")]",
            "message 7 [loss=0.5,tags=[1]] min Some(\"^loss$\")",
            "both 7 [loss=0.5] [tags=[1]] max None",
            "info 7",
            "print info Some((\"ex\", \"/runs/ex\"))",
            "meta 7 {'cpu': 4}",
            "state 3",
            "print state Model [2]",
            "print refused: update_meta takes a map, not a int",
        ]
    );
    assert_eq!(seen[11], "log [\"x=2\"] at Some(Step) step 3");
    assert_eq!(seen[22], "log [\"x=[1, 'a']\"] at Some(Step) step 3");
    assert!(
        seen[33].starts_with("log [\"v0=1\", ")
            && seen[33].ends_with("\"v8=1\", \"m={'k': 0.5}\"] at Some(Step) step 3")
    );
    hook.close_ffi(&RunEnd { status: RunStatus::Timeout, reason: Some("SIGUSR1".into()) }, &host).unwrap();
    assert_eq!(
        host.seen.take(),
        [
            "print closed timeout Some(\"SIGUSR1\")",
            "run_params /runs/ex",
            "print params Some([(\"lr\", Float(0.5)), (\"n\", Int(-3)), (\"tags\", List([Bool(true), None, Str(\"x\")])), \
             (\"w\", Tensor(Tensor { dtype: F32, shape: [1], data: [0, 0, 128, 63] })), (\"img\", Image([1, 2])), \
             (\"e\", Experiment(ExperimentHandle(9)))])",
            "system_meta [\"cpu\", \"gpu\"]",
            "print meta {'cpu': {}, 'gpu': {}}",
        ]
    );
}

/// The Monitor's own variables (the `Indexed` view) through the buffer the hook reuses between
/// firings: numbers written directly, other kinds converted, and each firing sees exactly its own
/// variables whatever the previous one held (more of them, a list or a map where a number is now).
#[test]
fn the_reused_variable_buffer_carries_each_firing_exactly() {
    let mut hook = LibraryHook::new(library(), "probe", "x@1s", &[]).unwrap();
    let host = Recorder::default();
    let names: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| (*s).to_owned()).collect();
    let values = vec![
        Value::Float(0.25),
        Value::Int(-7),
        Value::Str("s".into()),
        Value::List(vec![Value::Int(1), Value::Bool(true)]),
        Value::Map(vec![("k".into(), Value::Float(1.5))]),
    ];
    let mut logs = Vec::new();
    for picked in [vec![0, 1, 2, 3, 4], vec![4, 0], vec![1], vec![3, 3, 0], vec![]] {
        let firing = Firing {
            trigger: Trigger::from_index(0),
            counters: [3, 1, 0, 0, 0],
            vars: VarsView::Indexed { names: &names, values: &values, picked: &picked },
            host: &host,
        };
        let outcome = hook.call_ffi(&firing).map_err(|e| format!("{e:?}")).unwrap();
        assert_eq!(outcome, Outcome::Warn(format!("{} vars", picked.len())));
        logs.push(host.seen.take().into_iter().next().unwrap());
    }
    assert_eq!(
        logs,
        [
            "log [\"a=0.25\", \"b=-7\", \"c=s\", \"d=[1, True]\", \"e={'k': 1.5}\"] at Some(Step) step 3",
            "log [\"e={'k': 1.5}\", \"a=0.25\"] at Some(Step) step 3",
            "log [\"b=-7\"] at Some(Step) step 3",
            "log [\"d=[1, True]\", \"d=[1, True]\", \"a=0.25\"] at Some(Step) step 3",
            "log [] at Some(Step) step 3",
        ]
    );
}

#[test]
fn a_damaged_value_reply_is_an_error_not_a_crash() {
    let mut bytes = Vec::new();
    encode_value(&Value::Map(vec![("k".into(), Value::from("text"))]), &mut bytes);
    assert!(decode_value(&bytes, &mut 0).is_ok());
    for cut in 0..bytes.len() {
        assert!(decode_value(&bytes[..cut], &mut 0).is_err(), "cut at {cut}");
    }
    // A list claiming more items than there are bytes.
    let mut huge = vec![5];
    huge.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(decode_value(&huge, &mut 0).is_err());
}

#[test]
fn a_constructor_error_comes_back_whole() {
    let Err(CallFailure::Error(e)) = LibraryHook::new(library(), "probe", "bad@1s", &[]) else { panic!("no error") };
    assert_eq!((e.message.as_str(), e.help.as_deref()), ("bad spec", Some("use another")));
    let Err(CallFailure::Error(e)) = LibraryHook::new(library(), "nope", "x@1s", &[]) else { panic!("no error") };
    assert_eq!(e.message, "this library has no hook named \"nope\"");
}

#[test]
fn a_panic_with_a_non_string_payload_in_close_comes_back_as_data() {
    let options = [("panic".to_owned(), Value::Bool(true))];
    let mut hook = LibraryHook::new(library(), "probe", "x@1s", &options).unwrap();
    let host = Recorder::default();
    match hook.close_ffi(&RunEnd::finished(), &host) {
        Err(CallFailure::Panic(p)) => assert!(p.starts_with("a panic with a non-string payload (at "), "{p}"),
        other => panic!("{other:?}"),
    }
    // Closed once: a second close does nothing.
    assert!(matches!(hook.close_ffi(&RunEnd::finished(), &host), Ok(Outcome::Continue)));
}

/// A host that serves nothing but `message`.
struct OldHost(RefCell<Vec<String>>);

impl Host for OldHost {
    fn request(&self, request: Request<'_>) -> Reply {
        match request {
            Request::Message { messages, .. } => {
                self.0.borrow_mut().push(messages.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(","));
                Reply::Done
            }
            _ => Reply::Unsupported,
        }
    }
}

#[test]
fn a_host_without_a_service_answers_unsupported_and_the_caller_decides() {
    let host = OldHost(RefCell::new(Vec::new()));
    let h: &dyn Host = &host;
    let e = ExperimentHandle(1);
    let (s, m) = ([("a", ValueRef::Int(1))], [("b", ValueRef::Int(2))]);
    // message_with_summary falls back to two messages ...
    h.message_with_summary(e, &s, &m, Keep::Latest, None).unwrap();
    assert_eq!(host.0.take(), ["a", "b"]);
    // ... state has no fallback: the error names the service and the fix.
    let err = h.state(StateHandle(1)).unwrap_err();
    assert!(err.contains("does not offer the `state` service") && err.contains("newer xmen"), "{err}");
    assert!(h.summary(false).is_empty());
}

/// A host whose services panic.
struct PanickyHost;

impl Host for PanickyHost {
    fn request(&self, _request: Request<'_>) -> Reply {
        panic!("the host broke");
    }
}

#[test]
fn a_panic_in_a_host_service_becomes_an_error_reply() {
    let mut hook = LibraryHook::new(library(), "probe", "x@1s", &[]).unwrap();
    let host = PanickyHost;
    let firing =
        Firing { trigger: None, counters: [0; 5], vars: VarsView::Native(&[("x", ValueRef::Int(1))]), host: &host };
    match hook.call_ffi(&firing) {
        Err(CallFailure::Error(e)) => {
            assert!(e.message.starts_with("the host panicked serving `message`: the host broke (at "), "{e:?}")
        }
        other => panic!("{other:?}"),
    }
}
