"""Python tensorboardX on the TensorBoard hook bench's workload: 100 scalars per step.

Times `SummaryWriter.add_scalar` for every scalar of every step, then `close()` (which
flushes), and prints the rate written to disk and the training-thread cost of one
step's 100 calls, to compare with `cargo bench -p xmen-hook-tensorboard`.

Usage:  python benches/tensorboardx_scalars.py [--steps 20000]
Needs:  pip install tensorboardX==2.6.5
"""
import argparse
import sys
import tempfile
import time

try:
    from tensorboardX import SummaryWriter
except ImportError:
    sys.exit("tensorboardX is not installed: pip install tensorboardX==2.6.5")

VARS = 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000, help="steps of 100 scalars each")
    args = parser.parse_args()
    tags = [f"v{k:02d}" for k in range(VARS)]
    values = [k * 0.5 for k in range(VARS)]
    with tempfile.TemporaryDirectory() as logdir:
        writer = SummaryWriter(logdir)
        start = time.perf_counter()
        for step in range(1, args.steps + 1):
            for tag, value in zip(tags, values):
                writer.add_scalar(tag, value, global_step=step)
        calls = time.perf_counter() - start
        writer.close()
        total = time.perf_counter() - start
    scalars = args.steps * VARS
    print(f"tensorboardX add_scalar: {scalars} scalars in {total:.3f} s = {scalars / total:,.0f} scalars/s to disk")
    print(f"training-thread cost per step of {VARS} scalars: {calls / args.steps * 1e6:.1f} us")


if __name__ == "__main__":
    main()
