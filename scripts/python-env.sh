#!/usr/bin/env bash
# Create (once) the Python environment the tests read our files back with:
# ruamel.yaml (the original xmen's YAML library) and tensorboard (its EventAccumulator
# and plugin readers check the TensorBoard hook's event files). Prints the python path.
# Cached under $XMEN_CACHE (default ~/.cache/xmen) so later runs are instant.
set -euo pipefail
cache="${XMEN_CACHE:-$HOME/.cache/xmen}"
venv="$cache/venv"
want="ruamel.yaml==0.18.6 tensorboard==2.21.0 safetensors==0.6.2"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import ruamel.yaml, tensorboard, safetensors" 2>/dev/null; then
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
fi
echo "$venv/bin/python"
