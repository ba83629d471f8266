#!/usr/bin/env python3
"""Timer hooks every 5 steps and every epoch."""
import time

from xmen import Monitor

m = Monitor(time=["@5s", "@1e"])
for _ in m(range(3)):
    for _ in m(range(10)):
        time.sleep(0.002)
