//! The one system-meta collector, on sysinfo.
//!
//! [`basic`] runs at registration, [`full`] at run start and [`Probe`] in the probe hook. Every
//! collector failure is swallowed: a group that cannot be read is left out. Sizes are
//! 1024-based with two decimals (`1.20MB`), percentages `12.5%`, frequencies `2596.00Mhz`.
//!
//! Differences from the original, on purpose: every GPU and every address of an
//! interface is kept (`{iface: {AF_INET: [{address, netmask, broadcast}, ...]}}`),
//! `CUDA_VISIBLE_DEVICES=0,1` works, and swap has no stray space and a `%` on its percentage.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sysinfo::{CpuRefreshKind, Disks, Gpus, MemoryRefreshKind, Networks, RefreshKind, System};
use xmen_core::pyfmt::human_bytes;
use xmen_core::Value;

use crate::error::{RecordError, Result};
use crate::store::{atomic_write, WriteOpts};

type Map = Vec<(String, Value)>;

fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.1}%", part / whole * 100.0)
    } else {
        "0.0%".to_owned()
    }
}

/// The always-present group: `mac`, `host`, `user`, `home` (computed once per process).
pub fn basic() -> Value {
    static BASIC: OnceLock<Map> = OnceLock::new();
    Value::Map(BASIC.get_or_init(basic_uncached).clone())
}

fn basic_uncached() -> Map {
    let mut m = Map::new();
    if let Some(mac) = mac_address() {
        m.push(("mac".into(), s(mac)));
    }
    m.push(("host".into(), s(host_name())));
    m.push(("user".into(), s(user_name())));
    if let Some(home) = std::env::var_os("HOME") {
        m.push(("home".into(), s(home.to_string_lossy())));
    }
    m
}

/// The machine's host name (`localhost` when unknown).
pub fn host_name() -> String {
    System::host_name().unwrap_or_else(|_| "localhost".to_owned())
}

/// The login name, like Python's `getpass.getuser()`: `LOGNAME`, `USER`, `LNAME`, `USERNAME`,
/// then the password database (`unknown` when nothing answers).
pub fn user_name() -> String {
    for var in ["LOGNAME", "USER", "LNAME", "USERNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    passwd_name().unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(unix)]
fn passwd_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

#[cfg(not(unix))]
fn passwd_name() -> Option<String> {
    None
}

/// Python's `hex(uuid.getnode())`: the first non-zero hardware address, as `0x…` hex.
fn mac_address() -> Option<String> {
    let nets = Networks::new_with_refreshed_list().ok()?;
    let mut names: Vec<_> = nets.keys().collect();
    names.sort();
    names.into_iter().find_map(|n| {
        let mac = nets.get(n)?.mac_address();
        (!mac.is_unspecified()).then(|| {
            let v = mac.0.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{v:#x}")
        })
    })
}

/// Which optional groups [`full`] collects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetaOpts {
    /// `system`: uname.
    pub system: bool,
    /// `cpu`: core counts and frequencies.
    pub cpu: bool,
    /// `virtual` and `swap`: memory.
    pub memory: bool,
    /// `disks`: every disk and the I/O totals.
    pub disks: bool,
    /// `network`: every interface address and the traffic totals.
    pub network: bool,
    /// `gpu`: every visible GPU.
    pub gpu: bool,
    /// `slurm`: the SLURM job, when there is one.
    pub slurm: bool,
    /// `environ`: the environment, as the configuration's `environ:` says (secret values
    /// redacted by default; see [`crate::redact`]).
    pub environ: bool,
}

impl MetaOpts {
    /// Everything, as collected when a run starts.
    pub fn run_start() -> MetaOpts {
        MetaOpts {
            system: true,
            cpu: true,
            memory: true,
            disks: true,
            network: true,
            gpu: true,
            slurm: true,
            environ: true,
        }
    }
}

/// The basic group plus the groups selected by `opts`.
pub fn full(opts: MetaOpts) -> Value {
    let Value::Map(mut m) = basic() else {
        return basic();
    };
    let mut push = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.push((k.to_owned(), v));
        }
    };
    if opts.system {
        push("system", Some(system()));
    }
    if opts.cpu {
        push("cpu", cpu());
    }
    if opts.memory {
        let (virt, swap) = memory().unzip();
        push("virtual", virt);
        push("swap", swap);
    }
    if opts.disks {
        push("disks", disks());
    }
    if opts.network {
        push("network", network());
    }
    if opts.gpu {
        push("gpu", gpu(None));
    }
    if opts.slurm {
        push("slurm", slurm());
    }
    if opts.environ {
        // The configuration's `environ:` setting; secret values are redacted by default.
        push("environ", crate::redact::environ(crate::redact::environ_mode()));
    }
    Value::Map(m)
}

fn system() -> Value {
    let text = |r: std::result::Result<String, sysinfo::Error>| s(r.unwrap_or_default());
    Value::Map(vec![
        ("system".into(), text(System::name())),
        ("node".into(), s(host_name())),
        ("release".into(), text(System::kernel_version())),
        ("version".into(), text(System::long_os_version())),
        ("machine".into(), s(System::cpu_arch())),
        ("processor".into(), s(System::cpu_arch())),
    ])
}

fn mhz(v: f64) -> Value {
    s(format!("{v:.2}Mhz"))
}

/// A sysfs cpufreq value in kHz, as MHz.
fn sysfs_mhz(file: &str) -> f64 {
    std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu0/cpufreq/{file}"))
        .ok()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .map_or(0.0, |khz| khz / 1000.0)
}

fn cpu() -> Option<Value> {
    let sys =
        System::new_with_specifics(RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing().with_frequency())).ok()?;
    let total = sys.cpus().len();
    let cur = sys.cpus().first().map_or(0.0, |c| c.frequency() as f64);
    let physical = System::physical_core_count().unwrap_or(total);
    Some(Value::Map(vec![
        ("physical".into(), Value::from(physical)),
        ("total".into(), Value::from(total)),
        ("max_freq".into(), mhz(sysfs_mhz("cpuinfo_max_freq"))),
        ("min_freq".into(), mhz(sysfs_mhz("cpuinfo_min_freq"))),
        ("cur_freq".into(), mhz(cur)),
    ]))
}

fn memory() -> Option<(Value, Value)> {
    let sys = System::new_with_specifics(RefreshKind::nothing().with_memory(MemoryRefreshKind::everything())).ok()?;
    let (total, avail) = (sys.total_memory(), sys.available_memory());
    let virt = Value::Map(vec![
        ("total".into(), s(human_bytes(total))),
        ("free".into(), s(human_bytes(avail))),
        ("used".into(), s(human_bytes(sys.used_memory()))),
        ("percentage".into(), s(percent(total.saturating_sub(avail) as f64, total as f64))),
    ]);
    let (st, su) = (sys.total_swap(), sys.used_swap());
    let swap = Value::Map(vec![
        ("total".into(), s(human_bytes(st))),
        ("free".into(), s(human_bytes(sys.free_swap()))),
        ("used".into(), s(human_bytes(su))),
        ("percentage".into(), s(percent(su as f64, st as f64))),
    ]);
    Some((virt, swap))
}

fn disks() -> Option<Value> {
    let disks = Disks::new_with_refreshed_list().ok()?;
    let mut m = Map::new();
    let (mut read, mut written) = (0u64, 0u64);
    for d in &disks {
        let name = d.name().to_string_lossy().into_owned();
        let usage = d.usage();
        read = read.saturating_add(usage.total_read_bytes);
        written = written.saturating_add(usage.total_written_bytes);
        if m.iter().any(|(k, _)| *k == name) {
            continue; // one entry per device, its first mount point
        }
        let (total, free) = (d.total_space(), d.available_space());
        let used = total.saturating_sub(free);
        m.push((
            name,
            Value::Map(vec![
                ("mountpoint".into(), s(d.mount_point().display().to_string())),
                ("fstype".into(), s(d.file_system().to_string_lossy())),
                ("total".into(), s(human_bytes(total))),
                ("used".into(), s(human_bytes(used))),
                ("free".into(), s(human_bytes(free))),
                ("percent".into(), s(percent(used as f64, total as f64))),
            ]),
        ));
    }
    m.push(("read".into(), s(human_bytes(read))));
    m.push(("write".into(), s(human_bytes(written))));
    Some(Value::Map(m))
}

fn netmask(addr: &std::net::IpAddr, prefix: u8) -> (String, Option<String>) {
    match addr {
        std::net::IpAddr::V4(a) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
            let bcast = u32::from(*a) | !mask;
            (std::net::Ipv4Addr::from(mask).to_string(), Some(std::net::Ipv4Addr::from(bcast).to_string()))
        }
        std::net::IpAddr::V6(_) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix.min(128))) };
            (std::net::Ipv6Addr::from(mask).to_string(), None)
        }
    }
}

fn network() -> Option<Value> {
    let nets = Networks::new_with_refreshed_list().ok()?;
    let mut names: Vec<_> = nets.keys().collect();
    names.sort();
    let (mut sent, mut received) = (0u64, 0u64);
    let mut m = Map::new();
    for name in names {
        let Some(data) = nets.get(name) else { continue };
        sent = sent.saturating_add(data.total_transmitted());
        received = received.saturating_add(data.total_received());
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for ip in data.ip_networks() {
            let (mask, bcast) = netmask(&ip.addr, ip.prefix);
            let entry = Value::Map(vec![
                ("address".into(), s(ip.addr.to_string())),
                ("netmask".into(), s(mask)),
                ("broadcast".into(), bcast.map_or(Value::None, s)),
            ]);
            if ip.addr.is_ipv4() {
                v4.push(entry)
            } else {
                v6.push(entry)
            }
        }
        let mut fam = Map::new();
        if !v4.is_empty() {
            fam.push(("AF_INET".into(), Value::List(v4)));
        }
        if !v6.is_empty() {
            fam.push(("AF_INET6".into(), Value::List(v6)));
        }
        let mac = data.mac_address();
        if !mac.is_unspecified() {
            fam.push(("AF_PACKET".into(), Value::List(vec![Value::Map(vec![("address".into(), s(mac.to_string()))])])));
        }
        m.push((name.to_string_lossy().into_owned(), Value::Map(fam)));
    }
    m.push(("sent".into(), s(human_bytes(sent))));
    m.push(("received".into(), s(human_bytes(received))));
    Some(Value::Map(m))
}

/// The GPU indices `CUDA_VISIBLE_DEVICES` allows (`None`: all); non-numeric entries (UUIDs)
/// cannot be matched without NVML and are skipped.
fn visible_gpus() -> Option<Vec<usize>> {
    let v = std::env::var("CUDA_VISIBLE_DEVICES").ok()?;
    Some(v.split(',').filter_map(|t| t.trim().parse().ok()).collect())
}

/// `{0: {name, id, stats, uuid}, 1: ...}` for every visible GPU; `None` without GPUs.
fn gpu(gpus: Option<&Gpus>) -> Option<Value> {
    let owned;
    let gpus = match gpus {
        Some(g) => g,
        None => {
            owned = Gpus::new_with_refreshed_list().ok()?;
            &owned
        }
    };
    let order: Vec<usize> = visible_gpus().unwrap_or_else(|| (0..gpus.len()).collect());
    let mut m = Map::new();
    for (n, i) in order.into_iter().enumerate() {
        let Some(g) = gpus.get(i) else { continue };
        let name = [g.vendor(), g.model()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let mb = |b: Option<u64>| b.map_or_else(|| "?".to_owned(), |b| (b / (1024 * 1024)).to_string());
        let load = g.usage().map_or_else(|| "?".to_owned(), |u| format!("{u:.0}"));
        m.push((
            n.to_string(),
            Value::Map(vec![
                ("name".into(), s(name)),
                ("id".into(), Value::from(i)),
                ("stats".into(), s(format!("?°C, {load}%, {}/{}MB", mb(g.used_memory()), mb(g.total_memory())))),
                ("uuid".into(), s(g.pci().to_string())),
            ]),
        ));
    }
    (!m.is_empty()).then_some(Value::Map(m))
}

/// `{id, SLURM_* variables, every KEY=VALUE of scontrol show job}` inside a SLURM job.
fn slurm() -> Option<Value> {
    let id = std::env::var("SLURM_JOB_ID").or_else(|_| std::env::var("SLURM_JOBID")).ok()?;
    let mut m: Map = vec![("id".into(), s(id.clone()))];
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("SLURM_"))
        .map(|(k, v)| {
            let v = xmen_core::redact::environ_value(&k, &v).to_owned();
            (k, v)
        })
        .collect();
    env.sort();
    m.extend(env.into_iter().map(|(k, v)| (k, s(v))));
    if let Ok(out) =
        Command::new("scontrol").args(["show", "job", &id]).stdin(Stdio::null()).stderr(Stdio::null()).output()
    {
        for tok in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Some((k, v)) = tok.split_once('=') {
                match m.iter_mut().find(|(mk, _)| mk == k) {
                    Some((_, slot)) => *slot = s(v),
                    None => m.push((k.to_owned(), s(v))),
                }
            }
        }
    }
    Some(Value::Map(m))
}

/// Live measurements for the probe hook: per-core CPU usage and GPUs.
///
/// CPU usage is a difference between two refreshes, so keep one `Probe` and sample it
/// repeatedly (at least [`sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`] apart).
///
/// It holds no GPU handle (sysinfo's is not `Send`, and a hook must be): GPUs are listed
/// afresh at each sample.
pub struct Probe {
    sys: Option<System>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").finish_non_exhaustive()
    }
}

impl Default for Probe {
    fn default() -> Probe {
        Probe::new()
    }
}

impl Probe {
    /// Start measuring.
    pub fn new() -> Probe {
        let sys =
            System::new_with_specifics(RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing().with_usage())).ok();
        Probe { sys }
    }

    /// `{cpu: {usage: {0: "12.5%", ...}}, gpu: {...}}` since the previous sample.
    pub fn sample(&mut self) -> Value {
        let mut m = Map::new();
        if let Some(sys) = &mut self.sys {
            sys.refresh_cpu_usage();
            let usage =
                sys.cpus().iter().enumerate().map(|(i, c)| (i.to_string(), s(format!("{:.1}%", c.usage())))).collect();
            m.push(("cpu".into(), Value::Map(vec![("usage".into(), Value::Map(usage))])));
        }
        if let Some(g) = gpu(None) {
            m.push(("gpu".into(), g));
        }
        Value::Map(m)
    }
}

/// One probe reading (waits the minimum CPU interval between two refreshes).
pub fn probe() -> Value {
    let mut p = Probe::new();
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    p.sample()
}

/// Write `{dir}/environment.yml` from `$CONDA_EXE env export` when `save_conda` is on and conda
/// exists (only a run writes it; the original's `register`
/// wrote it even with `save_conda` off). Returns the file written, if any.
pub fn write_conda_env(dir: &Path, save_conda: bool) -> Result<Option<PathBuf>> {
    if !save_conda {
        return Ok(None);
    }
    let Some(conda) = std::env::var_os("CONDA_EXE").map(PathBuf::from).filter(|p| p.exists()) else {
        return Ok(None);
    };
    let out = Command::new(&conda)
        .args(["env", "export"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| RecordError::io("run", &conda, e))?;
    if !out.status.success() {
        return Ok(None);
    }
    let path = dir.join("environment.yml");
    // `variables:` holds environment variables: the same rule as `_meta.environ`.
    let text = crate::redact::conda_variables(&String::from_utf8_lossy(&out.stdout), crate::redact::environ_mode());
    atomic_write(&path, text.as_bytes(), WriteOpts::default(), None)?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_has_host_user_and_home() {
        let b = basic();
        for k in ["host", "user"] {
            assert!(matches!(b.get(k), Some(Value::Str(v)) if !v.is_empty()), "{k}: {b:?}");
        }
        if let Some(Value::Str(mac)) = b.get("mac") {
            assert!(mac.starts_with("0x"), "{mac}");
        }
    }

    #[test]
    fn full_collects_the_requested_groups_only() {
        let f = full(MetaOpts { system: true, memory: true, cpu: true, ..MetaOpts::default() });
        assert!(f.get("system").is_some() && f.get("virtual").is_some() && f.get("cpu").is_some());
        assert!(f.get("environ").is_none() && f.get("disks").is_none());
        let pct = f.get("virtual").and_then(|v| v.get("percentage")).and_then(Value::as_str);
        assert!(pct.is_some_and(|p| p.ends_with('%')), "{pct:?}");
        let freq = f.get("cpu").and_then(|v| v.get("cur_freq")).and_then(Value::as_str);
        assert!(freq.is_some_and(|p| p.ends_with("Mhz")), "{freq:?}");
        assert!(crate::yaml::to_string(&full(MetaOpts::run_start())).is_ok());
    }

    #[test]
    fn netmasks_and_broadcasts_follow_the_prefix() {
        let a: std::net::IpAddr = std::net::Ipv4Addr::new(10, 1, 2, 3).into();
        assert_eq!(netmask(&a, 24), ("255.255.255.0".into(), Some("10.1.2.255".into())));
        assert_eq!(netmask(&a, 0), ("0.0.0.0".into(), Some("255.255.255.255".into())));
        let b: std::net::IpAddr = std::net::Ipv6Addr::LOCALHOST.into();
        assert_eq!(netmask(&b, 64), ("ffff:ffff:ffff:ffff::".into(), None));
    }

    #[test]
    fn probe_reports_every_core() {
        let p = probe();
        let usage = p.get("cpu").and_then(|c| c.get("usage"));
        assert!(matches!(usage, Some(Value::Map(m)) if !m.is_empty()), "{p:?}");
    }

    #[test]
    fn conda_is_skipped_when_off() -> Result<()> {
        assert_eq!(write_conda_env(Path::new("/nonexistent"), false)?, None);
        Ok(())
    }
}
