"""The global configuration (`~/.xmen/xmen.yml`, docs/file-formats.md#xmenyml), read through
the record crate."""
import os

from xmen import _xmen


def config_dir():
    """`$XMEN` when set, else `~/.xmen`."""
    return os.environ.get("XMEN") or os.path.join(os.path.expanduser("~"), ".xmen")


class Config:
    """The global configuration's values, read-only (edit with `xmen config`)."""

    def __init__(self):
        path = os.path.join(config_dir(), "xmen.yml")
        values = {}
        if os.path.isfile(path):
            with open(path) as f:
                values = _xmen.parse_yaml(f.read(), path) or {}
        self.__dict__.update(values)

    def __repr__(self):
        return "\n".join(f"{k}: {v}" for k, v in self.__dict__.items())
