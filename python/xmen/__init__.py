"""xmen: a fast, reproducible experiment manager.

The Python API of the original xmen (experiments as classes or functions, the Monitor and its
hooks) over the Rust core: records are written by the Rust record crate, the Monitor is the
Rust Monitor, and hooks are the same shared libraries every Rust experiment loads.
"""
import os as _os

from xmen import _xmen

_HOOKS_DIR = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "hooks")


def _register_hooks():
    # The wheel's first-party hook libraries become an installation of this ABI generation,
    # as every `xmen` command does for the folder beside its binary: runs resolve them on the
    # one search path (README "Where hooks are found").
    try:
        if any(f.endswith(".so") for f in _os.listdir(_HOOKS_DIR)):
            _xmen.register_hooks_dir(_HOOKS_DIR)
    except OSError:
        pass


_register_hooks()

# `Experiment.message` leaves its messages with the record's writer thread, which writes them
# at once; at the interpreter's exit, wait for what is still being written.
import atexit as _atexit  # noqa: E402

_atexit.register(_xmen.flush_messages)

from xmen.experiment import Experiment  # noqa: E402
from xmen.functional import Root, autodoc, functional_experiment, read_comments  # noqa: E402
from xmen.monitor import Hook, Monitor, TorchMonitor  # noqa: E402

__all__ = [
    "Experiment",
    "Root",
    "autodoc",
    "functional_experiment",
    "read_comments",
    "Monitor",
    "TorchMonitor",
    "Hook",
]
