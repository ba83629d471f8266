#!/usr/bin/env python3
"""The Messenger expanding a dict into its entries, led by `y`."""
import os

from _common import base_dir, experiment, msg
from xmen import Monitor

ex = experiment(os.path.join(base_dir("messenger-expand"), "ex"))
m = Monitor(msg="z->^ex$@10s", msg_keep="min", msg_leader="y", msg_expand=True)
x = 5
for i in m(range(100)):
    x += 1
    z = {"x": x, "y": x * x, "i": i}
    if i % 10 == 1:
        print(f"[{msg(ex, 'i')}, {msg(ex, 'y')}, {msg(ex, 'x')}]")
