"""Shared by the messenger examples: the base folder (first argument) and a message's text."""
import os
import sys
import tempfile

from xmen import Experiment


def base_dir(name):
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.path.join(tempfile.gettempdir(), f"xmen-{name}-{os.getpid()}")


def experiment(folder):
    ex = Experiment()
    ex.register(folder)
    return ex


def msg(ex, key):
    v = ex.messages.get(key)
    return "None" if v is None else str(v)
