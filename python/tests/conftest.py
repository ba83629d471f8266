"""Fixtures for the Python package's tests: every test starts from empty temporary folders (an
empty `$XMEN` home, no hook path) and drives the real `xmen` console script and real Python
experiment scripts, as a user who ran `pip install` would.

Environment (set by scripts/test.sh's Python step):
- XMEN_RUST_EXAMPLES: the folder of the Rust examples' binaries (side-by-side tests);
- XMEN_TEST_JSONL_LIB: the third-party `jsonl` hook library (examples/custom-hook);
- XMEN_TEST_PANIC_LIB: the `panicky` fixture hook library (tests/fixtures/panic).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

WORKSPACE = Path(__file__).resolve().parents[2]
EXAMPLES = WORKSPACE / "python" / "examples"
BIN = Path(sys.executable).parent

TIME = re.compile(r"\d\d:\d\d[AP]M \d\d/\d\d/\d\d")
DURATION = re.compile(r"=((?:\d+ days?, )?\d+:\d\d:\d\d(?:\.\d{6})?)")


def mask(text):
    """The Rust tests' masking: Monitor times and `key=duration` values."""
    return DURATION.sub("={duration}", TIME.sub("{time}", text))


def required_env(name):
    """A path the test step provides; without it the test is skipped locally, and fails under
    CI=true (CI builds it)."""
    value = os.environ.get(name)
    if not value:
        if os.environ.get("CI") == "true":
            pytest.fail(f"${name} is not set; scripts/test.sh sets it")
        pytest.skip(f"${name} is not set (scripts/test.sh sets it)")
    if not Path(value).exists():
        pytest.fail(f"${name}={value} does not exist")
    return Path(value)


class Env:
    """A scratch folder with its own `$XMEN` home, and helpers running real programs in it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.home = tmp / "xmen-home"
        self.home.mkdir()
        self.env = {k: v for k, v in os.environ.items() if k not in ("XMEN_HOOK_PATH",)}
        self.env["XMEN"] = str(self.home)
        self.env["PYTHONUNBUFFERED"] = "1"

    def run(self, args, cwd=None, check=True, timeout=120, **kw):
        p = subprocess.run([str(a) for a in args], cwd=cwd or self.tmp, env=self.env, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"{args} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def xmen(self, *args, **kw):
        return self.run([BIN / "xmen", *args], **kw)

    def python(self, *args, **kw):
        return self.run([sys.executable, *args], **kw)

    def script(self, name, text):
        """An executable Python experiment script (a shebang to this interpreter)."""
        path = self.tmp / name
        path.write_text(f"#!{sys.executable}\n{text}")
        path.chmod(0o755)
        return path


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def require_torch():
    """PyTorch for the torch tests: scripts/test.sh links the slim PyTorch of the tch step into
    the test venv (`scripts/python-package.sh --torch`). Without it the test is skipped locally,
    saying how to get it, and fails under CI=true (CI installs it)."""
    try:
        import torch
    except ImportError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PyTorch is not importable ({e}); scripts/python-package.sh --torch installs it")
        pytest.skip(f"PyTorch is not importable ({e}); run scripts/python-package.sh --torch")
    return torch
