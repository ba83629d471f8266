"""The Monitor: hooks from `_hooks` (a third-party library), Python hook objects, frame
capture only when a hook fires, a panicking hook, and the lifecycle under SIGTERM."""
import re
import signal
import subprocess
import sys
import time

from conftest import required_env
from xmen import Hook, Monitor, _xmen

TRAIN = '''
import sys
from xmen import Experiment, Monitor


class Train(Experiment):
    """Trains."""

    steps: int = 20  # @p How many steps

    def run(self):
        m = Monitor(log="loss@10s")
        loss = 1.0
        for i in m(range(self.steps)):
            loss = loss / 2
        print("done", i)


if __name__ == "__main__":
    Train().main()
'''


def test_a_third_party_hook_from_hooks_records_a_python_experiment(env):
    lib = required_env("XMEN_TEST_JSONL_LIB")
    script = env.script("train.py", TRAIN)
    hooks = f"{{_hooks: [{{hook: jsonl, spec: 'loss@5s', path: '{lib}'}}]}}"
    env.xmen("init", "-n", script, "-r", "set", "-p", "", "-u", hooks)
    assert "jsonl" in (env.tmp / "set" / "defaults.yml").read_text()
    env.xmen("register", "-r", "set", "-u", "{steps: 20 | 10}")
    env.xmen("run", "-r", "set", "*", "bash")
    lines = (env.tmp / "set" / "steps=20" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4 and '"loss"' in lines[0], lines
    assert len((env.tmp / "set" / "steps=10" / "metrics.jsonl").read_text().splitlines()) == 2


def test_a_panicking_hook_library_does_not_take_the_interpreter_down(env):
    lib = required_env("XMEN_TEST_PANIC_LIB")
    script = env.script("train.py", TRAIN)
    hooks = f"{{_hooks: [{{hook: panicky, spec: 'loss@1s', path: '{lib}'}}]}}"
    run = env.run([script, "-u", hooks, "-x", env.tmp / "run"])
    assert "done 19" in run.stdout, run
    assert "deliberate panic" in run.stdout + run.stderr
    assert _xmen.load_record(str(env.tmp / "run" / "params.yml"))["_status"] == "finished"


def test_sigterm_records_stopped_and_ends_the_loop(env):
    script = env.script("long.py", '''
from xmen import Experiment, Monitor


class Long(Experiment):
    """Runs long."""

    n: int = 10**9  # @p Steps

    def run(self):
        m = Monitor(log="x@100000000s")
        print("started", flush=True)
        for x in m(range(self.n)):
            pass
        print("loop ended at", m.step, flush=True)


if __name__ == "__main__":
    Long().main()
''')
    p = subprocess.Popen([str(script), "-x", str(env.tmp / "run")], env=env.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM, (out, err)
    assert "Stopping experiment" in out and "loop ended at" in out, (out, err)
    assert _xmen.load_record(str(env.tmp / "run" / "params.yml"))["_status"] == "stopped"


class Collect(Hook):
    def __init__(self, spec):
        super().__init__(spec)
        self.seen = []

    def call(self, var_dict, monitor):
        self.seen.append((monitor.step, dict(var_dict)))


def test_python_hook_objects_get_the_loop_frames_locals_when_they_fire():
    h = Collect("loss|acc@5s")
    m = Monitor(hooks=[h])
    loss, acc, other = 0.0, 1, "x"
    for i in m(range(10)):
        loss = i * 0.5
        acc = [i, i + 1]
    assert h.seen == [(5, {"loss": 2.0, "acc": [4, 5]}), (10, {"loss": 4.5, "acc": [9, 10]})]


class Counted:
    """Counts how often the Monitor reads it (its `str()`)."""

    reads = 0

    def __str__(self):
        Counted.reads += 1
        return "counted"


def test_a_step_where_nothing_fires_does_not_read_the_frame():
    seen = []
    h = Collect("val@25s")
    m = Monitor(hooks=[h])
    Counted.reads = 0
    val = Counted()
    for _ in m(range(100)):
        seen.append(Counted.reads)
    assert Counted.reads == 4
    assert [s for s in seen if s] == [1] * 25 + [2] * 25 + [3] * 25
    assert [v["val"] for _, v in h.seen] == ["counted"] * 4


def test_nested_loops_count_levels_and_inc_fires_with_the_callers_locals():
    h = Collect("z@2e")
    m = Monitor(hooks=[h])
    z = 0
    for _ in m(range(4)):
        for _ in m(range(3)):
            z += 1
    assert (m.step, m.epoch) == (12, 4)
    assert h.seen == [(6, {"z": 6}), (12, {"z": 12})]
    g = Collect("w@1s")
    m2 = Monitor(hooks=[g])
    w = 7
    m2.inc("step")
    assert g.seen == [(1, {"w": 7})]


def test_a_python_hook_that_raises_is_reported_and_the_loop_goes_on(capfd):
    class Bad(Hook):
        def call(self, var_dict, monitor):
            raise ValueError("bad hook")

    m = Monitor(hooks=[Bad("@2s")])
    n = 0
    for _ in m(range(10)):
        n += 1
    assert n == 10
    out, err = capfd.readouterr()
    assert "bad hook" in out + err


def test_monitor_log_summary_limit_and_to_hooks(capfd):
    h = Collect("x")
    m = Monitor(hooks=[h], limit="@3s")
    got = [i for i in m(range(10))]
    assert got == [0, 1, 2] and m.step == 3
    m.log(3.14159, format=".2f")
    m.to_hooks(x=1, y=2)
    assert h.seen == [(3, {"x": 1})]
    out, _ = capfd.readouterr()
    assert "---- Limit reached for step 3 ----" in out and "]: 3.14" in out
    assert list(Monitor().summary()) == ["last"]


def test_numpy_arrays_reach_hooks_as_arrays():
    import numpy as np

    h = Collect("arr@1s")
    m = Monitor(hooks=[h])
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    for _ in m(range(1)):
        pass
    got = h.seen[0][1]["arr"]
    assert got.dtype == np.float32 and got.shape == (2, 3) and (got == arr).all()


def test_a_bad_spec_is_refused_naming_it():
    import pytest

    with pytest.raises(RuntimeError, match="y@@1s"):
        Monitor(log="y@@1s")


RESUME = '''
import os
import numpy as np
from xmen import Experiment, TorchMonitor


class Model:
    def __init__(self):
        self.w = np.zeros(2, dtype=np.float64)

    def state_dict(self):
        return {"w": self.w.copy()}

    def load_state_dict(self, sd):
        self.w = np.array(sd["w"])


class Train(Experiment):
    """Trains and resumes."""

    epochs: int = 4  # @p Epochs

    def run(self):
        model = Model()
        m = TorchMonitor(self.directory, ckpt="model@1e")
        loaded, counters = m.load(model=model)
        print("resumed", loaded, dict(counters), model.w.tolist(), flush=True)
        stop = int(os.environ.get("STOP_AFTER", "0"))
        for epoch in m(range(m.epoch, self.epochs)):
            if stop and epoch == stop:
                break  # stopped after `stop` epochs, each counted and checkpointed
            first = m.step + 1
            for _ in m(range(3)):
                model.w += 1
            print(f"steps {first}..={m.step} (epoch {epoch + 1})", flush=True)


if __name__ == "__main__":
    Train().main()
'''


def test_a_model_checkpointed_and_resumed_continues_its_step_numbers(env):
    script = env.script("resume.py", RESUME)
    env.env["STOP_AFTER"] = "2"
    first = env.run([script, "-x", env.tmp / "run"]).stdout
    assert "steps 1..=3 (epoch 1)" in first and "steps 4..=6 (epoch 2)" in first
    files = sorted(p.name for p in (env.tmp / "run" / "checkpoints" / "model").iterdir())
    assert files == ["3.safetensors", "6.safetensors"], files
    del env.env["STOP_AFTER"]
    second = env.run([script, "-x", env.tmp / "run", "-f"]).stdout
    assert "resumed ['model'] {'step': 6, 'epoch': 2, 'era': 0, 'eon': 0, 'supereon': 0} [6.0, 6.0]" in second, second
    assert "steps 7..=9 (epoch 3)" in second and "steps 10..=12 (epoch 4)" in second, second
    from safetensors.numpy import load_file

    assert load_file(str(env.tmp / "run" / "checkpoints" / "model" / "12.safetensors"))["w"].tolist() == [12.0, 12.0]


def test_the_checkpoint_example_keeps_and_restores_like_the_original(env):
    from conftest import EXAMPLES

    run = env.python(EXAMPLES / "checkpoint.py", env.tmp / "ck")
    text = re.sub(r"\[\d\d:\d\d[AP]M \d\d/\d\d/\d\d[^\]]*\]: ", "", run.stdout)
    lines = [l for l in text.splitlines() if not l.startswith(("saved ", "loaded model"))]
    assert "\n".join(lines) + "\n" == (EXAMPLES / "checkpoint.expected").read_text()


def test_a_torch_monitor_writes_tensorboard_summaries_of_numbers_and_arrays(tmp_path):
    import numpy as np

    from xmen import TorchMonitor

    m = TorchMonitor(str(tmp_path), sca="loss@2s", hist="w@2s")
    loss, w = 0.0, np.zeros(4, dtype=np.float32)
    for i in m(range(6)):
        loss = 1.0 / (i + 1)
        w = w + 1
    m.close()
    events = list((tmp_path / "summaries").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "summaries"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss")] == [2, 4, 6]
    assert [round(e.value, 4) for e in acc.Scalars("loss")] == [0.5, 0.25, round(1 / 6, 4)]
