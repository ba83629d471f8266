#!/usr/bin/env bash
# Install (once) the slim PyTorch that the `tch` feature links against, and print its
# LIBTORCH path (the wheel's `torch` folder, which holds `include/` and `lib/`).
#
# tch 0.26 needs exactly PyTorch 2.13.0 (torch-sys checks major.minor.patch, but skips the
# check when LIBTORCH is set, so the pin lives here). A CPU-only wheel is not on PyPI, so
# this installs the CUDA wheel without its dependencies plus the two small nvidia wheels
# that libtorch_cpu.so itself needs (libcudart, libcupti): ~515 MB download, 1.3 GB on disk.
# Python's `import torch` does not work in this slim venv; only the C++ library is used.
# Cached under $XMEN_CACHE (default ~/.cache/xmen), so later runs are instant.
#
# Build with LIBTORCH="$(scripts/torch-env.sh)" and run with LD_LIBRARY_PATH="$LIBTORCH/lib".
set -euo pipefail
torch_version="2.13.0"
cache="${XMEN_CACHE:-$HOME/.cache/xmen}"
venv="$cache/torch-$torch_version"
python="${XMEN_TORCH_PYTHON:-python3}"

site_packages() {
    "$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
}

installed() {
    [ -x "$venv/bin/python" ] || return 1
    local torch
    torch="$(site_packages)/torch"
    [ -f "$torch/lib/libtorch_cpu.so" ] && [ -d "$torch/include/torch" ] \
        && grep -q "__version__ = '$torch_version" "$torch/version.py" 2>/dev/null
}

if ! installed; then
    mkdir -p "$cache"
    echo "installing the slim PyTorch $torch_version into $venv (once; about 500 MB)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        "torch==$torch_version" "nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cupti==13.0.85" >&2
    if ! installed; then
        echo "error: PyTorch $torch_version was installed into $venv but $(site_packages)/torch has no lib/libtorch_cpu.so or include/torch" >&2
        exit 1
    fi
fi
echo "$(site_packages)/torch"
