#!/usr/bin/env python3
"""The original's checkpoint.py: 10 epochs of 20 steps, checkpoints of `model`
every 5 steps (keep 5), of the optimiser every epoch (keep 1) and of `model2` every 20 steps
(keep all), then `load` restoring the newest. Objects follow the state-dict protocol (torch
modules and optimizers do; these are numpy stand-ins so the example runs without torch)."""
import os
import sys
import tempfile

import numpy as np

from xmen import TorchMonitor


class Linear:
    def __init__(self, n):
        self.w = np.zeros(n, dtype=np.float32)

    def state_dict(self):
        return {"weight": self.w.copy()}

    def load_state_dict(self, sd):
        self.w = np.array(sd["weight"], dtype=np.float32)


class SGD:
    def __init__(self, lr):
        self.lr, self.steps = lr, np.zeros(1, dtype=np.int64)

    def state_dict(self):
        return {"state": {"steps": self.steps.copy()}, "param_groups": [{"lr": self.lr}]}

    def load_state_dict(self, sd):
        self.steps = np.array(sd["state"]["steps"])
        self.lr = sd["param_groups"][0]["lr"]


directory = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="xmen-checkpoint-")
model, model2, optimiser = Linear(3), Linear(2), SGD(0.1)
m = TorchMonitor(directory, ckpt=["^model$@5s", "opt@1e", "^model2$@20s"], ckpt_keep=[5, 1, None])
for _ in m(range(10)):
    for _ in m(range(20)):
        model.w += 1
        model2.w -= 1
        optimiser.steps += 1

for name in sorted(os.listdir(os.path.join(directory, "checkpoints"))):
    files = sorted(os.listdir(os.path.join(directory, "checkpoints", name)), key=lambda f: int(f.split(".")[0]))
    print(name, " ".join(files))

fresh, fresh2, opt = Linear(3), Linear(2), SGD(0.5)
loaded, counters = m.load(model=fresh, model2=fresh2, optimiser=opt)
print("loaded", sorted(loaded), "at", counters)
print("model", fresh.w.tolist(), "model2", fresh2.w.tolist(), "optimiser", opt.lr, opt.steps.tolist())
