"""Print issue 15's table from criterion's results: path | now | original | target.

`now` is read from `{criterion}/*/new/estimates.json` (the mean) of the benches listed in ROWS,
found by the `full_id` in each `benchmark.json`; a row whose bench has not run says so.

Usage:  python3 benches/table.py [CRITERION_DIR]   (default: $CARGO_TARGET_DIR/criterion)
"""
import json
import os
import sys
from pathlib import Path

# (path, [(bench full_id, how to show its mean)], original, target).
# Shows: "ns" (a duration), "rate" (1e9 / mean: steps per second).
ROWS = [
    ("Monitor step, no hook fires, untimed / timed",
     [("monitor_step/no_fire_untimed", "ns"), ("monitor_step/no_fire_timed", "ns")],
     "5,244 ns", "<= 11 ns / <= 65 ns"),
    ("Monitor step, 1 in-process hook fires (5 vars) / 4 fire",
     [("monitor_step/fire_native_5_vars", "ns"), ("monitor_step/fire_native_4_hooks", "ns")],
     "", "accounting <= 25 ns per firing"),
    ("What cost accounting adds to a firing: TSC reading + record / reading alone",
     [("hooks_cost/per_firing", "ns"), ("hooks_cost/clock_read_alone", "ns")], "", "<= 25 ns"),
    ("cdylib firing, 5 vars", [("fire_5_vars/cdylib", "ns")], "", "keep (149 ns)"),
    ("Logger firing through the cdylib", [("logger_fire/cdylib_2_vars", "ns")], "45,487 ns", "<= 1 us"),
    ("message write (keep=latest, 20 params, 10 messages)",
     [("message write (keep=latest, 20 params, 10 messages)", "ns")], "23,035 us", "off the training thread (next row)"),
    ("Messenger firing, training thread (5 vars, min, leader; written by the writer thread)",
     [("messenger_fire_5_vars_min_leader", "ns")], "", "<= 3 us"),
    ("Messenger every 10 steps, steps/s", [("messenger_every_10_steps_per_step", "rate")], "66,900 (before)", ">= 2,000,000"),
    ("TensorBoard, 100 scalars through the cdylib, paced",
     [("fire_100_scalars/cdylib_back_pressure_paced", "ns")], "tensorboardX ~6-9 ms", "<= 2 us"),
    ("register a 1,000-run sweep", [("register/1000-run sweep", "ns")], "5.4 s", "<= 100 ms"),
    ("`xmen list` + filter, 100,000 runs, no index / indexed",
     [("list_100000/cold", "ns"), ("list_100000/warm", "ns")], "~340 s (linear from 1k)", "<= 2 s / <= 0.25 s"),
    ("a message into a 16,000-key (400 KB) record",
     [("message write, 16,000-key record/keep=latest, 10 messages", "ns")], "", "amortised by item 2"),
]


def human_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            v = ns / scale
            return f"{v:,.3g} {unit}" if v < 100 else f"{v:,.0f} {unit}"
    return f"{ns:.3g} ns" if ns < 100 else f"{ns:,.0f} ns"


def results(root):
    """full_id -> mean in ns, from every new/ result under root."""
    out = {}
    for bench in root.glob("**/new/benchmark.json"):
        try:
            full_id = json.loads(bench.read_text())["full_id"]
            est = json.loads((bench.parent / "estimates.json").read_text())
            out[full_id] = est["mean"]["point_estimate"]
        except (OSError, KeyError, ValueError):
            continue
    return out


def main():
    default = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/xmen/target")) / "criterion"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    found = results(root)
    rows = [("path", "now", "original", "target")]
    for path, benches, original, target in ROWS:
        shown = []
        for full_id, how in benches:
            ns = found.get(full_id)
            if ns is None:
                shown.append("not run")
            elif how == "rate":
                shown.append(f"{1e9 / ns:,.0f}")
            else:
                shown.append(human_ns(ns))
        rows.append((path, " / ".join(shown), original, target))
    print(f"criterion results: {root}\n")
    for r in rows:
        print("| " + " | ".join(r) + " |")
        if r is rows[0]:
            print("|---|---|---|---|")
    # The untimed step is the yardstick of the machine's load: issue 15's work left its
    # instructions unchanged (121 before and after, benches/callgrind.sh) since the issue
    # measured 10.9 ns in a quiet hour, so its ratio says how much the neighbours inflate every
    # wall-clock number above.
    step = found.get("monitor_step/no_fire_untimed")
    if step:
        print(f"\nLoad: the untimed step (unchanged code) took {step:.1f} ns against 10.9 ns in the issue's quiet "
              f"hour (same instructions): wall-clock numbers above are inflated about {step / 10.9:.1f}x.")


if __name__ == "__main__":
    main()
