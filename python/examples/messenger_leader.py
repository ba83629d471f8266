#!/usr/bin/env python3
"""The Messenger with a leader: `i` is written only when `y` is a new minimum."""
import os

from _common import base_dir, experiment, msg
from xmen import Monitor

ex = experiment(os.path.join(base_dir("messenger-leader"), "ex"))
m = Monitor(msg="^y$|^i$->^ex$@10s", msg_keep="min", msg_leader="^y$")
x = -50
for i in m(range(100)):
    x += 1
    y = x * x
    if i % 10 == 1:
        print(f"[{msg(ex, 'i')}, {msg(ex, 'y')}]")
