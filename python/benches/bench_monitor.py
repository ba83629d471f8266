#!/usr/bin/env python3
"""Speed of the Python Monitor (issue 16 item 6), best of several repeats, printed per item:

- a wrapped step where no hook fires, next to the floor: a bare `for` over `range`;
- a step where a Logger (the `logger` hook library) fires, its line going to /dev/null;
- `Experiment.message` on a registered experiment: the call, which leaves the messages with the
  record's writer thread (it writes them at once, coalescing what arrives meanwhile);
- for comparison, a message followed by `flush`, which waits for its locked write of
  params.yml (what a synchronous message costs: mostly the file system's).

Run: python python/benches/bench_monitor.py   (after scripts/python-package.sh)
"""
import contextlib
import os
import sys
import tempfile
import time

from xmen import Experiment, Monitor

N = 2_000_000
REPEATS = 7


def best(fn, n):
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter_ns()
        fn(n)
        times.append(time.perf_counter_ns() - t)
    return min(times) / n


def bare(n):
    for _ in range(n):
        pass


def wrapped(m):
    def loop(n):
        for _ in m(range(n)):
            pass
    return loop


def logged(m):
    def loop(n):
        x = 1.5
        for _ in m(range(n)):
            pass
    return loop


@contextlib.contextmanager
def stdout_to_devnull():
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def main():
    floor = best(bare, N)
    quiet = Monitor(log="x@1000000000s")
    step = best(wrapped(quiet), N)
    with stdout_to_devnull():
        firing = best(logged(Monitor(log="x@1s")), N // 20)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XMEN"] = os.path.join(tmp, "home")
        e = Experiment()
        e.register(os.path.join(tmp, "e"))
        k = [0.0]

        def messages(n):
            for _ in range(n):
                k[0] += 1
                e.message({"loss": k[0]})

        message = best(messages, 200)
        root = e._xmen_native_root

        def flushed(n):
            for _ in range(n):
                k[0] += 1
                e.message({"loss": k[0]})
                root.flush()

        synchronous = best(flushed, 200)
    print(f"bare for over range:           {floor:10.1f} ns/step")
    print(f"Monitor step, no hook fires:   {step:10.1f} ns/step  (limit 150)")
    print(f"Monitor step, Logger fires:    {firing:10.1f} ns/step  (limit 3000)")
    print(f"Experiment.message:            {message / 1000:10.1f} us    (limit 200)")
    print(f"message + flush (its write):   {synchronous / 1000:10.1f} us")


if __name__ == "__main__":
    main()
