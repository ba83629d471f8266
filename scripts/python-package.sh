#!/usr/bin/env bash
# Build the `xmen` Python wheel (python/: the PyO3 extension module, abi3 for CPython >= 3.9,
# with the first-party hook libraries as package data and the `xmen` console script) and
# install it into a venv for the Python tests. Prints the venv's python path.
#
# The venv (maturin, pytest, numpy and the read-back libraries of scripts/python-env.sh) is
# cached under $XMEN_CACHE (default ~/.cache/xmen) like the other environments; the wheel is
# rebuilt every time (cargo makes that incremental) and left in $XMEN_CACHE/wheels.
#
# With --torch, the venv also gets PyTorch for the torch tests: the slim PyTorch 2.13.0 of the
# tch step (scripts/torch-env.sh --python adds, once, what its `import torch` needs) is put on
# the venv's path by a `xmen-torch.pth` file, so the 1.2 GB wheel is installed once for both.
# When that fails the script says so and goes on (the torch tests then skip), except under
# CI=true, where it fails.
set -euo pipefail
with_torch=false
case "${1:-}" in
    --torch) with_torch=true ;;
    "") ;;
    *) echo "error: unknown option $1 (scripts/python-package.sh [--torch])" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
cache="${XMEN_CACHE:-$HOME/.cache/xmen}"
venv="$cache/pyvenv"
want="maturin==1.16.0 pytest==9.2.0 numpy==2.4.6 ruamel.yaml==0.18.6 safetensors==0.6.2 tensorboard==2.21.0"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pytest, numpy, ruamel.yaml, safetensors, tensorboard" 2>/dev/null \
    || [ ! -x "$venv/bin/maturin" ]; then
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
# The first-party hook libraries, built from the workspace, become package data.
hooks="logger timer messenger probe tensorboard checkpointer early-stop"
cargo build --release --quiet $(for h in $hooks; do echo "-p xmen-hook-$h"; done) >&2
data="python/xmen/hooks"
rm -rf "$data"
mkdir -p "$data"
for h in $hooks; do
    cp "$CARGO_TARGET_DIR/release/libxmen_hook_${h//-/_}.so" "$data/"
done
rm -rf "$cache/wheels"
(cd python && "$venv/bin/maturin" build --release --quiet --out "$cache/wheels" >&2)
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$cache"/wheels/xmen-*.whl >&2
if $with_torch; then
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    rm -f "$site/xmen-torch.pth"
    echo "python: PyTorch for the torch tests (scripts/torch-env.sh --python; cached in $cache)" >&2
    if torch_site="$(XMEN_CACHE="$cache" bash scripts/torch-env.sh --python)" \
        && echo "$torch_site" > "$site/xmen-torch.pth" \
        && out="$(cd / && "$venv/bin/python" -c 'import numpy, torch; torch.zeros(2).numpy(); print(torch.__version__)' 2>&1)"; then
        echo "python: torch $out from $torch_site" >&2
    else
        rm -f "$site/xmen-torch.pth"
        echo "python: PyTorch is NOT available to the Python tests; the torch tests will be skipped. ${out:-}" >&2
        if [ "${CI:-}" = "true" ]; then
            echo "error: CI=true needs PyTorch for the torch tests" >&2
            exit 1
        fi
    fi
fi
echo "$venv/bin/python"
