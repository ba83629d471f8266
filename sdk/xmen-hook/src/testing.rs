//! Fire a hook in-process, the way the Monitor does, and read what it did.
//!
//! A [`Harness`] constructs a hook from a spec and options exactly as a library does (through
//! [`NewHook::new`]), fires it with given variables, trigger and counters, and stands in for the
//! host: it keeps every line the hook printed or logged and every [`Request`] it made, and
//! answers each request with a reply you script ([`Harness::reply`]) or a default.
//!
//! ```
//! use xmen_hook::testing::Harness;
//! use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, Options, Outcome, Reply, Spec};
//!
//! struct Hello;
//! impl Hook for Hello {
//!     fn call(&mut self, f: &Firing<'_>) -> HookResult {
//!         let last = f.host().summary(false).into_iter().next().map(|(_, v)| v).unwrap_or_default();
//!         f.log(&format!("hello at {last}, step {}", f.step()));
//!         Ok(Outcome::Continue)
//!     }
//! }
//! impl NewHook for Hello {
//!     const NAME: &'static str = "hello";
//!     const HELP: &'static str = "says hello";
//!     fn new(_: &Spec, _: &Options<'_>) -> Result<Hello, HookError> { Ok(Hello) }
//! }
//!
//! let mut h = Harness::<Hello>::new("@1s", &[])?;
//! h.reply("summary", Reply::Summary(vec![("last".into(), "noon".into())]));
//! h.counters([7, 0, 0, 0, 0]).fire(&[])?;
//! assert_eq!(h.logged(), ["hello at noon, step 7"]);
//! assert_eq!(h.requests(), ["summary false", "log \"hello at noon, step 7\""]);
//! # Ok::<(), HookError>(())
//! ```

use crate::{
    Firing, Hook, HookError, HookResult, Host, NewHook, Options, Outcome, Reply, Request, RunEnd, Spec, Trigger,
};
use crate::{Value, ValueRef};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// What the harness saw the hook do, in order.
#[derive(Default)]
struct Seen {
    /// Every line, printed or logged, as the hook passed it.
    lines: Vec<String>,
    /// The texts of `log` requests.
    logged: Vec<String>,
    /// Each request, rendered as `{service} {arguments}`.
    requests: Vec<String>,
    /// Scripted replies, by service, in order; the last one stays.
    replies: HashMap<&'static str, VecDeque<Reply>>,
    /// Whether the hook asked the host to stop.
    stop: Option<String>,
}

/// The host of a [`Harness`].
#[derive(Default)]
struct TestHost {
    seen: RefCell<Seen>,
}

fn render(request: &Request<'_>) -> String {
    let vars = |v: &[(&str, ValueRef<'_>)]| {
        let parts: Vec<String> = v.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("[{}]", parts.join(", "))
    };
    match *request {
        Request::Print(l) => format!("print {l:?}"),
        Request::Log(l) => format!("log {l:?}"),
        Request::Summary { verbose } => format!("summary {verbose}"),
        Request::Stop(m) => format!("stop {m:?}"),
        Request::Message { experiment, messages, keep, leader } => {
            format!("message {} {} {keep} {leader:?}", experiment.0, vars(messages))
        }
        Request::ExperimentInfo(e) => format!("experiment_info {}", e.0),
        Request::UpdateMeta { experiment, meta } => format!("update_meta {} {meta}", experiment.0),
        Request::State(s) => format!("state {}", s.0),
        Request::MessageWithSummary { experiment, summary, messages, keep, leader } => {
            format!("message_with_summary {} {} {} {keep} {leader:?}", experiment.0, vars(summary), vars(messages))
        }
        Request::RunParams { directory } => format!("run_params {directory:?}"),
        Request::SystemMeta { groups } => format!("system_meta {groups:?}"),
        other => format!("{} (not rendered)", other.name()),
    }
}

impl Host for TestHost {
    fn request(&self, request: Request<'_>) -> Reply {
        let mut seen = self.seen.borrow_mut();
        seen.requests.push(render(&request));
        match request {
            Request::Print(l) => seen.lines.push(l.to_owned()),
            Request::Log(l) => {
                seen.lines.push(l.to_owned());
                seen.logged.push(l.to_owned());
            }
            Request::Stop(m) => seen.stop = Some(m.to_owned()),
            _ => {}
        }
        let name = request.name();
        if let Some(queue) = seen.replies.get_mut(name) {
            if queue.len() > 1 {
                if let Some(r) = queue.pop_front() {
                    return r;
                }
            }
            if let Some(r) = queue.front() {
                return r.clone();
            }
        }
        match request {
            Request::Summary { .. } => Reply::Summary(Vec::new()),
            Request::ExperimentInfo(_) => Reply::ExperimentInfo(None),
            Request::State(_) | Request::SystemMeta { .. } => Reply::Unsupported,
            // No record in the folder unless a test says otherwise.
            Request::RunParams { .. } => Reply::Value(xmen_core::value::Value::None),
            _ => Reply::Done,
        }
    }
}

/// One hook under test; see the [module docs](self).
pub struct Harness<H> {
    hook: H,
    host: TestHost,
    trigger: Option<Trigger>,
    counters: [u64; 5],
}

impl<H: NewHook> Harness<H> {
    /// Construct the hook from a spec and options, as a library would.
    pub fn new(spec: &str, options: &[(&str, Value)]) -> Result<Harness<H>, HookError> {
        let spec = Spec::parse(spec).map_err(|e| HookError::new(e.to_string()))?;
        let owned: Vec<(String, Value)> = options.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let hook = H::new(&spec, &Options::new(&owned))?;
        let trigger = spec.trigger();
        Ok(Harness { hook, host: TestHost::default(), trigger, counters: [1, 0, 0, 0, 0] })
    }
}

impl<H: Hook> Harness<H> {
    /// Wrap a hook constructed by hand.
    pub fn of(hook: H) -> Harness<H> {
        Harness { hook, host: TestHost::default(), trigger: Some(Trigger::Step), counters: [1, 0, 0, 0, 0] }
    }

    /// The counters of the next firings (step first); `[1, 0, 0, 0, 0]` until set.
    pub fn counters(&mut self, counters: [u64; 5]) -> &mut Self {
        self.counters = counters;
        self
    }

    /// The trigger of the next firings (`None`: a manual `to_hooks` call); the spec's until set.
    pub fn trigger(&mut self, trigger: Option<Trigger>) -> &mut Self {
        self.trigger = trigger;
        self
    }

    /// Answer requests for `service` (`summary`, `state`, `message`, ... : [`Request::name`])
    /// with `reply`. Several replies for one service are used in order, and the last one stays.
    /// Without a script, `summary` is empty, `experiment_info` unknown, `state` unsupported and
    /// everything else done.
    pub fn reply(&mut self, service: &'static str, reply: Reply) -> &mut Self {
        self.host.seen.borrow_mut().replies.entry(service).or_default().push_back(reply);
        self
    }

    /// Fire the hook with these variables (as if its spec matched exactly these).
    pub fn fire(&mut self, vars: &[(&str, Value)]) -> HookResult {
        let refs: Vec<(&str, ValueRef<'_>)> = vars.iter().map(|(k, v)| (*k, ValueRef::from(v))).collect();
        let firing = Firing::new(self.trigger, self.counters, &refs, &self.host);
        self.hook.call(&firing)
    }

    /// Close the hook, telling it how the run ended.
    pub fn close(&mut self, end: &RunEnd) -> HookResult {
        self.hook.close(end, &self.host)
    }

    /// Every line the hook printed or logged, in order (logged lines without the Monitor's
    /// `[time levels]:` prefix).
    pub fn lines(&self) -> Vec<String> {
        self.host.seen.borrow().lines.clone()
    }

    /// The texts the hook logged.
    pub fn logged(&self) -> Vec<String> {
        self.host.seen.borrow().logged.clone()
    }

    /// Every request the hook made, rendered `{service} {arguments}`.
    pub fn requests(&self) -> Vec<String> {
        self.host.seen.borrow().requests.clone()
    }

    /// The message of the hook's last `stop` request, if it made one.
    pub fn stopped(&self) -> Option<String> {
        self.host.seen.borrow().stop.clone()
    }

    /// Forget the lines and requests seen so far (scripted replies stay).
    pub fn clear(&mut self) {
        let mut seen = self.host.seen.borrow_mut();
        seen.lines.clear();
        seen.logged.clear();
        seen.requests.clear();
        seen.stop = None;
    }

    /// The hook itself.
    pub fn hook(&mut self) -> &mut H {
        &mut self.hook
    }

    /// Fire and require `Outcome::Continue`, returning the lines this firing added.
    pub fn fire_ok(&mut self, vars: &[(&str, Value)]) -> Result<Vec<String>, HookError> {
        let before = self.host.seen.borrow().lines.len();
        match self.fire(vars)? {
            Outcome::Continue => Ok(self.host.seen.borrow().lines[before..].to_vec()),
            other => Err(HookError::new(format!("the hook returned {other:?}, not Continue"))),
        }
    }
}
