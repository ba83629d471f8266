"""The examples' transcripts: logger, timer and full equal the Rust examples' `.expected`
files (times masked); the messenger examples print and record what the Rust ones do; hello
world, inheritance and functional equal their own expected files."""
import re

import pytest

from conftest import EXAMPLES, WORKSPACE, mask, required_env
from xmen import _xmen


def expected(name):
    return (WORKSPACE / "examples" / f"{name}.expected").read_text()


def test_the_logger_example_prints_the_rust_logger_transcript(env):
    run = env.python(EXAMPLES / "logger.py")
    assert run.stderr == ""
    assert mask(run.stdout) == expected("logger")


def test_the_timer_example_prints_the_rust_timer_transcript(env):
    run = env.python(EXAMPLES / "timer.py")
    assert run.stderr == ""
    assert mask(run.stdout) == expected("timer")


def test_the_full_example_prints_the_rust_full_transcript_and_messages_its_record(env):
    folder = env.tmp / "X"
    run = env.python(EXAMPLES / "full.py", folder)
    assert run.stderr == ""
    masked = mask(run.stdout).replace(str(folder), "{dir}")
    masked = re.sub(r"cpu=(\d+(\.\d+)?|\?)%", "cpu={cpu}%", masked)
    assert masked == expected("full")
    rec = _xmen.load_record(str(folder / "params.yml"))
    assert rec["_messages"]["a"] == 20
    assert rec["_messages"]["s"] == "20/240"
    assert "cpu" in rec["_meta"]


@pytest.mark.parametrize("name", ["messenger_basic", "messenger_leader", "messenger_expand", "messenger_prepend"])
def test_the_messenger_examples_print_and_record_what_the_rust_ones_do(env, name):
    rust = required_env("XMEN_RUST_EXAMPLES") / name
    py_dir, rs_dir = env.tmp / "py", env.tmp / "rs"
    py = env.python(EXAMPLES / f"{name}.py", py_dir)
    rs = env.run([rust, rs_dir])
    any_duration = re.compile(r"(?:\d+ days?, )?\d+:\d\d:\d\d(?:\.\d{6})?")

    def masked(text, folder):
        return any_duration.sub("{duration}", mask(text).replace(str(folder), "{dir}"))

    assert masked(py.stdout, py_dir) == masked(rs.stdout, rs_dir)
    for sub in sorted(p.name for p in rs_dir.iterdir()):
        py_msgs = _xmen.load_record(str(py_dir / sub / "params.yml"))["_messages"]
        rs_msgs = _xmen.load_record(str(rs_dir / sub / "params.yml"))["_messages"]
        summary = {"last", "s", "e", "wall", "end", "next", "step", "m_step", "load", "m_load"}
        assert {k: v for k, v in py_msgs.items() if k not in summary} == \
            {k: v for k, v in rs_msgs.items() if k not in summary}
        assert set(py_msgs) == set(rs_msgs)


@pytest.mark.parametrize("name", ["hello_world", "inheritance", "functional"])
def test_the_experiment_examples_print_their_expected_help(env, name):
    run = env.python(EXAMPLES / f"{name}.py")
    assert run.stdout == (EXAMPLES / f"{name}.expected").read_text()


def test_hello_world_runs_registered_and_leaves_its_messages(env):
    run = env.python(EXAMPLES / "hello_world.py", "-u", "{a: Hi, b: There}", "-x", env.tmp / "x1")
    assert run.stdout == "Updating parameters {'a': 'Hi', 'b': 'There'}\nHi There!\n"
    rec = _xmen.load_record(str(env.tmp / "x1" / "params.yml"))
    assert (rec["a"], rec["b"], rec["_status"]) == ("Hi", "There", "finished")
    assert rec["_messages"] == {"a": "Hi", "b": "There"}
    # A second run registers beside it (`x1_0`: an experiment's
    # own `-x DIR` suffixes `_0` first).
    env.python(EXAMPLES / "hello_world.py", "-x", env.tmp / "x1")
    assert _xmen.load_record(str(env.tmp / "x1_0" / "params.yml"))["_status"] == "finished"
