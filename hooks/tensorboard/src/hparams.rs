//! The HParams plugin's session: which parameters a run had (its `params.yml`, or an
//! option) and which scalar tags are its metrics, so that the runs of a registered
//! sweep line up in TensorBoard's HParams dashboard.

use crate::encode::plugins;
use crate::proto::{
    Experiment, HParamInfo, HParamsData, MetricInfo, MetricName, ProtoKind, ProtoValue, SessionEndInfo,
    SessionStartInfo, SummaryValue,
};
use std::collections::BTreeMap;
use std::path::Path;
use xmen_hook::{Host, RunStatus, Value};

/// The parameters recorded in `directory` (its `params.yml`), read by the host, which owns the
/// record format ([`xmen_hook::Request::RunParams`]). `Ok(None)` when there is no record.
pub fn read_params(host: &dyn Host, directory: &Path) -> Result<Option<Vec<(String, Value)>>, String> {
    host.run_params(&directory.to_string_lossy())
}

fn proto_value(v: &Value) -> Option<ProtoValue> {
    let kind = match v {
        Value::None => return None,
        Value::Bool(b) => ProtoKind::Bool(*b),
        Value::Int(i) => ProtoKind::Number(*i as f64),
        Value::Float(f) => ProtoKind::Number(*f),
        Value::Str(s) => ProtoKind::String(s.clone()),
        other => ProtoKind::String(xmen_hook::pyfmt::str_of(other)),
    };
    Some(ProtoValue { kind: Some(kind) })
}

fn proto_params(params: &[(String, Value)]) -> BTreeMap<String, ProtoValue> {
    params.iter().filter_map(|(k, v)| proto_value(v).map(|p| (k.clone(), p))).collect()
}

/// The experiment summary: the parameters' names and types, and the scalar tags the
/// HParams dashboard shows as metrics.
pub fn experiment(params: &[(String, Value)], metrics: &[String], now: f64) -> Vec<SummaryValue> {
    let hparam_infos = proto_params(params)
        .into_iter()
        .map(|(name, v)| HParamInfo {
            name,
            r#type: match v.kind {
                Some(ProtoKind::String(_)) => 1,
                Some(ProtoKind::Bool(_)) => 2,
                _ => 3,
            },
        })
        .collect();
    let metric_infos = metrics
        .iter()
        .map(|t| MetricInfo { name: Some(MetricName { group: String::new(), tag: t.clone() }) })
        .collect();
    let exp = Experiment { time_created_secs: now, hparam_infos, metric_infos };
    vec![plugins::hparams("_hparams_/experiment", HParamsData::Experiment(exp))]
}

/// The session-start summary: this run's parameters.
pub fn session_start(params: &[(String, Value)], now: f64) -> Vec<SummaryValue> {
    let ssi = SessionStartInfo { hparams: proto_params(params), group_name: String::new(), start_time_secs: now };
    vec![plugins::hparams("_hparams_/session_start_info", HParamsData::SessionStartInfo(ssi))]
}

/// TensorBoard's `hparams.Status` for how a run ended: `finished` is success, `error` and
/// `stopped` (ended before its end, by a person) failure, and `timeout`/`requeue` running, since
/// such a run resumes and continues the session.
pub fn session_status(status: RunStatus) -> i32 {
    const SUCCESS: i32 = 1;
    const FAILURE: i32 = 2;
    const RUNNING: i32 = 3;
    match status {
        RunStatus::Finished => SUCCESS,
        RunStatus::Timeout | RunStatus::Requeue => RUNNING,
        _ => FAILURE,
    }
}

/// The session-end summary, with the run's status ([`session_status`]).
pub fn session_end(status: RunStatus, now: f64) -> Vec<SummaryValue> {
    let sei = SessionEndInfo { status: session_status(status), end_time_secs: now };
    vec![plugins::hparams("_hparams_/session_end_info", HParamsData::SessionEndInfo(sei))]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn every_run_status_maps_to_the_closest_session_status() {
        let table = [
            (RunStatus::Finished, 1),
            (RunStatus::Error, 2),
            (RunStatus::Stopped, 2),
            (RunStatus::Timeout, 3),
            (RunStatus::Requeue, 3),
        ];
        for (status, want) in table {
            assert_eq!(session_status(status), want, "{status}");
        }
    }

    #[test]
    fn params_come_from_the_host_and_the_session_ends_with_the_runs_status() {
        use xmen_hook::testing::Harness;
        use xmen_hook::{Reply, RunEnd};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let options = [("directory", Value::from(d.as_str())), ("metrics", Value::List(vec!["loss".into()]))];
        let mut h = Harness::<crate::TensorBoard>::new("loss@1s", &options).unwrap();
        let params = vec![("lr".to_owned(), Value::Float(0.1)), ("opt".to_owned(), Value::from("adam"))];
        h.reply("run_params", Reply::Value(Value::Map(params)));
        h.fire(&[("loss", Value::Float(0.5))]).unwrap();
        h.close(&RunEnd { status: RunStatus::Stopped, reason: Some("SIGTERM".into()) }).unwrap();
        assert_eq!(h.requests().first().map(String::as_str), Some(format!("run_params {d:?}").as_str()));
        let events = std::fs::read_dir(dir.path().join("summaries")).unwrap().flatten().next().unwrap().path();
        let bytes = std::fs::read(events).unwrap();
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"_hparams_/session_start_info") && has(b"adam") && has(b"_hparams_/session_end_info"));

        // No record in the folder: no session at all.
        let dir = tempfile::tempdir().unwrap();
        let options = [("directory", Value::from(dir.path().display().to_string().as_str()))];
        let mut h = Harness::<crate::TensorBoard>::new("loss@1s", &options).unwrap();
        h.fire(&[("loss", Value::Float(0.5))]).unwrap();
        h.close(&RunEnd::finished()).unwrap();
        let events = std::fs::read_dir(dir.path().join("summaries")).unwrap().flatten().next().unwrap().path();
        assert!(!std::fs::read(events).unwrap().windows(9).any(|w| w == b"_hparams_"));
    }
}
