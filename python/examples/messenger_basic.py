#!/usr/bin/env python3
"""The Messenger: `y.*->ex.*@10s` leaves y1 and y2 with both experiments every 10 steps."""
import os

from _common import base_dir, experiment, msg
from xmen import Monitor

base = base_dir("messenger-basic")
ex1 = experiment(os.path.join(base, "ex1"))
ex2 = experiment(os.path.join(base, "ex2"))
m = Monitor(msg="y.*->ex.*@10s")
y1, y2 = 0, 0
for i in m(range(40)):
    y1 += 1
    y2 += 2
    if i % 10 == 1:
        print(f"ex1: y1 = {msg(ex1, 'y1')}, ex1: y2 = {msg(ex1, 'y2')}, ex2: y1 = {msg(ex2, 'y1')}, ex2: y2 = {msg(ex2, 'y2')}")
print("\nAll Messages")
for k, v in ex1.messages.items():
    print(k, v)
