"""The experiment-set manager: the `xmen` command line, run in-process."""
from xmen import _xmen


def xmen(*args):
    """Run `xmen ARGS...` in this process; returns the exit status.

    >>> xmen("list", "-r", "/tmp/my-set")  # doctest: +SKIP
    """
    return _xmen.cli_main(["xmen", *[str(a) for a in args]])
