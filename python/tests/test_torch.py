"""PyTorch through the Python Monitor (issue 16): a real torch model and optimizer trained under
a `TorchMonitor`, checkpointed by the Checkpointer hook (`ckpt=...`) through their state dicts,
the process stopped, a new process resumed from the checkpoints, and the run continuing with
the same step numbers and exactly the state an uninterrupted run reaches; torch tensors reach
the TensorBoard hook through numpy."""
import re

from conftest import require_torch

TRAIN = '''
import os
import sys

import torch
from xmen import Experiment, TorchMonitor


class Train(Experiment):
    """A linear regression by Adam, checkpointed every epoch and resumable."""

    epochs: int = 4  # @p Epochs of 3 steps

    def run(self):
        torch.manual_seed(0)
        torch.set_num_threads(1)
        model = torch.nn.Linear(3, 1)
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        m = TorchMonitor(self.directory, ckpt=["^model$@1e", "^opt$@1e"], sca="^loss$@1s", hist="^weight$@3s")
        loaded, counters = m.load(model=model, opt=opt)
        print("resumed", sorted(loaded), dict(counters), flush=True)
        stop = int(os.environ.get("STOP_AFTER", "0"))
        for epoch in m(range(m.epoch, self.epochs)):
            if stop and epoch == stop:
                break
            first = m.step + 1
            for _ in m(range(3)):
                # The batch is a function of the step number alone, so a resumed run sees
                # exactly the batches an uninterrupted one does.
                g = torch.Generator().manual_seed(m.step)
                x = torch.randn(8, 3, generator=g)
                y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(model(x), y)
                loss.backward()
                opt.step()
                weight = model.weight
            print(f"steps {first}..={m.step} (epoch {epoch + 1}) loss {loss.item():.6f}", flush=True)
        m.close()
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": m.step},
                   os.path.join(self.directory, "final.pt"))


if __name__ == "__main__":
    Train().main()
'''


def same(torch, a, b, path=""):
    """Equal state dicts, tensors bit for bit (dtype, shape, values); returns what differs."""
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(map(str, a)) != sorted(map(str, b)):
            return [f"{path}: keys {sorted(map(str, a))} != {sorted(map(str, b))}"]
        return [d for k in a for d in same(torch, a[k], b[k], f"{path}/{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in same(torch, x, y, f"{path}/{i}")]
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        ok = a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
        return [] if ok else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]


def test_a_torch_model_and_optimizer_checkpointed_stopped_and_resumed_continue_their_steps(env):
    torch = require_torch()
    script = env.script("train.py", TRAIN)

    # The whole run in one process: the reference.
    whole = env.run([script, "-x", env.tmp / "whole"]).stdout
    assert "resumed [] {}" in whole, whole

    # Stopped after 2 epochs: the process ends with 6 steps done and checkpointed.
    env.env["STOP_AFTER"] = "2"
    first = env.run([script, "-x", env.tmp / "run"]).stdout
    assert "steps 1..=3 (epoch 1)" in first and "steps 4..=6 (epoch 2)" in first, first
    assert "epoch 3" not in first, first
    for name in ("model", "opt"):
        files = sorted(p.name for p in (env.tmp / "run" / "checkpoints" / name).iterdir())
        assert files == ["3.safetensors", "6.safetensors"], (name, files)
    stopped = torch.load(env.tmp / "run" / "final.pt")
    assert stopped["step"] == 6

    # A new process resumes: counters and both objects from the step-6 checkpoints.
    del env.env["STOP_AFTER"]
    second = env.run([script, "-x", env.tmp / "run", "-f"]).stdout
    assert "resumed ['model', 'opt'] {'step': 6, 'epoch': 2, 'era': 0, 'eon': 0, 'supereon': 0}" in second, second
    assert "steps 7..=9 (epoch 3)" in second and "steps 10..=12 (epoch 4)" in second, second
    assert "steps 1..=3" not in second, second

    # The resumed run's losses, parameters and optimizer state (Adam's step counts, moments
    # and param groups) are exactly those of the uninterrupted run.
    losses = lambda text: re.findall(r"\(epoch (\d)\) loss (\S+)", text)
    assert losses(first) + losses(second) == losses(whole), (first, second, whole)
    resumed = torch.load(env.tmp / "run" / "final.pt")
    reference = torch.load(env.tmp / "whole" / "final.pt")
    assert resumed["step"] == reference["step"] == 12
    assert same(torch, resumed["model"], reference["model"]) == []
    assert same(torch, resumed["opt"], reference["opt"]) == []
    assert float(resumed["opt"]["state"][0]["step"]) == 12.0

    # The checkpoints are safetensors of the state dicts, named by step; the optimizer's
    # 0-d `step` tensors stay tensors.
    from safetensors.torch import load_file

    ck = load_file(str(env.tmp / "run" / "checkpoints" / "opt" / "12.safetensors"))
    assert ck["state/0/step"].shape == () and float(ck["state/0/step"]) == 12.0, ck
    assert torch.equal(ck["state/0/exp_avg"], reference["opt"]["state"][0]["exp_avg"])
    model_ck = load_file(str(env.tmp / "run" / "checkpoints" / "model" / "12.safetensors"))
    assert torch.equal(model_ck["weight"], reference["model"]["weight"])

    # Torch tensors reached TensorBoard through numpy: the loss every step and the weights'
    # histogram every 3 steps, both runs' steps in order with no gap or repeat.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(env.tmp / "run" / "summaries"), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss")] == list(range(1, 13))
    assert [e.step for e in acc.Histograms("weight")] == [3, 6, 9, 12]
    whole_acc = EventAccumulator(str(env.tmp / "whole" / "summaries"), size_guidance={"scalars": 0})
    whole_acc.Reload()
    assert [e.value for e in acc.Scalars("loss")] == [e.value for e in whole_acc.Scalars("loss")]
