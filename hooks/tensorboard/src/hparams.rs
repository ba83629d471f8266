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
use xmen_hook::{RunStatus, Value};
use xmen_record::{Record, RecordError};

/// The parameters of `{directory}/params.yml` (read by the record crate, legacy layouts
/// included). `Ok(None)` when there is no such file.
pub fn read_params(directory: &Path) -> Result<Option<Vec<(String, Value)>>, String> {
    let path = directory.join("params.yml");
    match Record::load(&path) {
        Ok(rec) => Ok(Some(rec.params.into_iter().map(|p| (p.name, p.value)).collect())),
        Err(RecordError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
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
    fn params_are_the_keys_without_underscore() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("params.yml"),
            "_root: /x  # The root\n_meta:\n  host: h\na: Hello # a: str='Hello'\nlr: 0.001\nn: 3\nflag: true\nl: [1, 2]\n",
        )
        .unwrap();
        let p = read_params(dir.path()).unwrap().unwrap();
        let names: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["a", "lr", "n", "flag", "l"], "file order");
        assert_eq!(p[1].1, Value::Float(0.001));
        assert_eq!(p[2].1, Value::Int(3));
        assert!(read_params(&dir.path().join("missing")).unwrap().is_none());
    }
}
