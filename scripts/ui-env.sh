#!/usr/bin/env bash
# Install (once) what the browser tests of `xmen ui` need: Debian's chromium and the DejaVu
# fonts (apt), and Playwright's Python driver with pytest in a venv cached under
# $XMEN_CACHE (default ~/.cache/xmen; pillow reads the screenshots). Playwright's own browser download is not used: the tests
# launch the system chromium by path. Prints two lines: the venv's python, then chromium.
set -euo pipefail
cache="${XMEN_CACHE:-$HOME/.cache/xmen}"
venv="$cache/ui-venv"
want="playwright==1.55.0 pytest==8.4.2 pillow==11.3.0"
chromium="$(command -v chromium || true)"
if [ -z "$chromium" ] || [ ! -d /usr/share/fonts/truetype/dejavu ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core >&2
    chromium="$(command -v chromium)"
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import playwright.sync_api, pytest, PIL" 2>/dev/null; then
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
fi
echo "$venv/bin/python"
echo "$chromium"
