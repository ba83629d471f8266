//! The host-services table is append-only: a hook library built before methods were
//! appended to it (the `old-host` fixture, built against the first release's table)
//! still loads in this host, is checked by abi_stable for everything else, and works.

use xmen::hooks::HookConfig;
use xmen::Monitor;
use xmen_tests::{built, loader, mask_time, Capture};

#[test]
fn a_hook_built_against_the_first_host_services_table_still_loads_and_runs() {
    let b = built();
    let out = Capture::new();
    let m = Monitor::builder()
        .loader(loader(&[&b.fixtures]))
        .hooks([HookConfig::new("old-host", "x@2s")])
        .output(out.clone())
        .build()
        .unwrap_or_else(|e| panic!("the old library must load: {e}"));
    m.set("x", 1);
    for _ in m.iter(0..4) {}
    drop(m);
    assert_eq!(
        mask_time(&out.text()),
        "[{time} 2/4]: old hook sees [\"x\"] and 4 summary entries\n[{time} 4/4]: old hook sees [\"x\"] and 4 summary entries\n"
    );
}
