#!/usr/bin/env python3
"""The Messenger expanding a dict with its name prepended (`z_x`, `z_y`, `z_i`)."""
import os

from _common import base_dir, experiment, msg
from xmen import Monitor

ex = experiment(os.path.join(base_dir("messenger-prepend"), "ex"))
m = Monitor(msg="z->^ex$@10s", msg_keep="min", msg_leader="z_y", msg_expand=True, msg_prep=True)
x = 5
for i in m(range(100)):
    x += 1
    z = {"x": x, "y": x * x, "i": i}
    if i % 10 == 1:
        print(f"[{msg(ex, 'z_i')}, {msg(ex, 'z_y')}, {msg(ex, 'z_x')}]")
