#!/usr/bin/env bash
# Run the criterion benches behind issue 15's table, then print the table (path | now | original |
# target) with today's means read from criterion's results ($CARGO_TARGET_DIR/criterion).
#
#   bash benches/compare.sh              run every bench (about 20 minutes on 2 loaded cores), then print
#   bash benches/compare.sh --print      print from the results already there
#   bash benches/compare.sh PACKAGE...   run only these packages' benches (e.g. after a failure), then print
#
# Criterion runs with `--warm-up-time 1 --measurement-time 3` (the list bench sets its own
# 20 s for 100,000 runs). Set XMEN_LIST_BENCH_DIR to keep the 100,000 generated runs between
# invocations. See benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmen/target}"
args=(-- --warm-up-time 1 --measurement-time 3)

if [[ "${1:-}" != "--print" ]]; then
    # package, bench, criterion filter
    runs=(
        "xmen-core monitor ."
        "xmen-bench-noop-hook dispatch ."
        "xmen-hook-logger logger cdylib"
        "xmen-record message message"
        "xmen-hook-messenger messenger ."
        "xmen-hook-tensorboard tensorboard paced"
        "xmen-manager register ."
        "xmen-manager list list_100000"
    )
    for r in "${runs[@]}"; do
        read -r package bench filter <<<"$r"
        if [[ $# -gt 0 && " $* " != *" $package "* ]]; then
            continue
        fi
        echo "==> cargo bench -p $package --bench $bench ${args[*]} $filter" >&2
        cargo bench -q -p "$package" --bench "$bench" "${args[@]}" "$filter" >&2
    done
fi
python3 benches/table.py "$CARGO_TARGET_DIR/criterion"
