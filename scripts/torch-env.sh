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
#
# `scripts/torch-env.sh --python` also makes Python's `import torch` work in that venv, for the
# Python package's torch tests, and prints the venv's site-packages folder instead. It adds
# only what `import torch` needs to the slim install, once: torch's pure-Python dependencies
# and the nvidia wheels providing exactly the libraries that libtorch_cuda.so and _C.so link
# (found with ldd: cublas/cublasLt, cudnn, cufft, cufile, curand, cusparse + nvJitLink,
# cusparseLt, nccl, nvrtc, nvshmem_host), pinned to torch 2.13.0's own requirements. Not
# installed: triton, cuda-bindings, cusolver and nvtx, which `import torch` and CPU tensors
# never load. About 1.8 GB more download and 2.5 GB more on disk (3.7 GB in all), a minute
# here; a full `pip install torch==2.13.0` would add about 0.5 GB more of both.
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
if [ "${1:-}" != "--python" ]; then
    echo "$(site_packages)/torch"
    exit 0
fi

# What `import torch` needs beyond the slim install (see the header).
python_deps="typing_extensions==4.15.0 sympy==1.14.0 mpmath==1.3.0 networkx==3.5 jinja2==3.1.6
    markupsafe==3.0.3 fsspec==2025.9.0 filelock==3.19.1"
cuda_libs="nvidia-cublas==13.1.1.3 nvidia-cuda-nvrtc==13.0.88 nvidia-cufft==12.0.0.61
    nvidia-cufile==1.15.1.6 nvidia-curand==10.4.0.35 nvidia-cusparse==12.6.3.3 nvidia-nvjitlink==13.0.88
    nvidia-cudnn-cu13==9.20.0.48 nvidia-cusparselt-cu13==0.8.1.post1 nvidia-nccl-cu13==2.29.7
    nvidia-nvshmem-cu13==3.4.5"
check='import torch; torch.nn.Linear(2, 2)(torch.zeros(1, 2))'
if ! (cd / && "$venv/bin/python" -c "$check") >/dev/null 2>&1; then
    echo "installing what Python's import torch needs into $venv (once; about 1.8 GB)" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps $python_deps $cuda_libs >&2
    if ! err="$(cd / && "$venv/bin/python" -c "$check" 2>&1)"; then
        echo "error: after installing torch's dependencies into $venv, \`$check\` still fails:" >&2
        echo "$err" | tail -5 >&2
        exit 1
    fi
fi
site_packages
