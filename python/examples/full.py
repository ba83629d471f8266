#!/usr/bin/env python3
"""The original's full.py: loggers on five levels, a Messenger, Timers, a
Probe and a limit. The experiment folder is the first argument."""
import os
import sys
import tempfile

from xmen import Experiment, Monitor

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), f"xmen-full-{os.getpid()}")
X = Experiment()
X.register(path, "the full.py example")


def mult(x):
    return 10 * x


def identity(x):
    return x


m = Monitor(
    log=("a|b@2s", "b@1e", "c@1er", "d|e@1eo", "e@1se"),
    log_fn=(mult, identity, identity, identity, identity),
    log_format=".3f",
    msg="a->X@1s",
    time=("@2s", "@1e"),
    probe="X@10s",
    limit="@20s",
)
a, b, c, d, e = 0, 0, 0, 0, 0
for _ in m(range(2)):
    for _ in m(range(2)):
        for _ in m(range(3)):
            for _ in m(range(4)):
                for _ in m(range(5)):
                    a += 1
                b += 1
            c += 1
        d += 1
    e += 1
