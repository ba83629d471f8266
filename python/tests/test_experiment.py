"""The class and functional APIs on their own."""
import pytest

import xmen
from xmen import Experiment, _xmen


class Base(Experiment):
    """Base."""

    a: float = 0.5  # @p A parameter
    b: str = 'cat'  # @p The b  # with a second hash in the help
    t = 'dog'  # @p
    _hidden: int = 3  # @p never a parameter


class Child(Base):
    """Child."""

    a: float = 0.1  # @p Re-declared

    @property
    def t(self):
        return "a property removes the parameter"


def test_parameters_are_read_from_the_source_and_merged_along_the_mro():
    assert [d.help_line() for d in Base._xmen_params.values()] == [
        "a: float=0.5 ~ A parameter",
        "b: str='cat' ~ The b  # with a second hash in the help",
        "t='dog'",
    ]
    assert list(Child._xmen_params) == ["a", "b"]
    assert Child._xmen_params["a"].owner == "Child" and Child._xmen_params["b"].owner == "Base"
    c = Child()
    assert (c.a, c.b) == (0.1, "cat")


def test_register_message_note_and_the_lifecycle(tmp_path, monkeypatch):
    monkeypatch.setenv("XMEN", str(tmp_path / "home"))
    e = Base(b="fish")
    assert e.status == "default" and e.b == "fish"
    e.register(str(tmp_path / "e"), "testing")
    assert e.status == "registered" and e.directory == str(tmp_path / "e")
    with pytest.raises(AttributeError, match="Parameters can only be changed"):
        e.a = 3.0
    with pytest.raises(AttributeError, match="Property root cannot be set"):
        e.root = "x"
    e.message({"loss": 1.5, "acc": 3})
    e.message({"loss": 2.0}, keep="min")
    e.message({"loss": 0.5, "acc": 10}, keep="min", leader="loss")
    assert e.messages == {"loss": 0.5, "acc": 10}
    e.note("n1")
    e.note("n2")
    e.note("n1", remove=True)
    assert e.notes == ["n2"] and e.purpose == "testing"
    e2 = Base()
    e2.register(str(tmp_path / "e"))
    assert e2.directory == str(tmp_path / "e_0")
    loaded = Base().from_yml(str(tmp_path / "e" / "params.yml"))
    assert loaded.b == "fish" and loaded.status == "registered"


MESSAGES = """
import os, sys, time
from xmen import Experiment


class Msgs(Experiment):
    \"\"\"Messages.\"\"\"

    x: int = 1  # @p x


e = Msgs()
e.register(sys.argv[1])
for i in range(300):
    e.message({"i": i, "best": i % 7}, keep="max", leader="best")
    e.message({"last": i})
if sys.argv[2] == "wait":
    # Hold the process until the test has seen the messages on disk (no flush, no exit).
    while not os.path.exists(sys.argv[1] + ".seen"):
        time.sleep(0.01)
# else: the interpreter exits right after the last message (atexit waits for its write).
"""


def test_messages_are_written_at_once_without_the_call_waiting_and_all_are_on_disk_at_exit(tmp_path):
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "msgs.py"
    script.write_text(MESSAGES)
    env = dict(os.environ, XMEN=str(tmp_path / "home"), XMEN_MESSAGE_FLUSH="3600")
    expected = {"i": 293, "best": 6, "last": 299}  # 293 % 7 == 6: ties win

    def on_disk(folder):
        path = folder / "params.yml"
        if not path.exists():
            return None
        m = _xmen.load_record(str(path)).get("_messages") or {}
        return {k: m.get(k) for k in expected}

    # Written at once by the record's writer thread, not after the (here one-hour) flush
    # interval: another process sees them while the experiment's process still runs.
    waiting = subprocess.Popen([sys.executable, str(script), str(tmp_path / "w"), "wait"], env=env)
    try:
        deadline = time.monotonic() + 60
        while on_disk(tmp_path / "w") != expected:
            assert time.monotonic() < deadline, on_disk(tmp_path / "w")
            assert waiting.poll() is None, "the experiment exited early"
            time.sleep(0.02)
    finally:
        (tmp_path / "w.seen").write_text("")
        assert waiting.wait(timeout=60) == 0
    # An interpreter that exits right after its last message leaves every message on disk.
    subprocess.run([sys.executable, str(script), str(tmp_path / "x"), "exit"], env=env, check=True, timeout=60)
    assert on_disk(tmp_path / "x") == expected


def test_update_refuses_unknown_names_and_casts_like_the_record(tmp_path):
    e = Base()
    with pytest.raises(ValueError, match="c"):
        e.update({"c": 3})
    e.update({"a": 2})
    assert e.a == 2.0 and isinstance(e.a, float)


def test_a_run_that_raises_is_recorded_error_and_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("XMEN", str(tmp_path / "home"))

    class Fails(Experiment):
        """Fails."""

        x: int = 1  # @p x

        def run(self):
            raise RuntimeError("it broke")

    f = Fails()
    f.register(str(tmp_path / "f"))
    with pytest.raises(RuntimeError, match="it broke"):
        f()
    rec = _xmen.load_record(str(tmp_path / "f" / "params.yml"))
    assert rec["_status"] == "error" and "it broke" in rec["_messages"]["error"]


def test_read_comments_and_autodoc_follow_the_original():
    def fn(
        root: xmen.Root,  # the root
        a: str = 'Hello',  # the first
        # argument
        b: int = 3,  # the second # two hashes: no help
        c=None,
    ):
        """Doc."""

    assert xmen.read_comments(fn) == {"a": "the first argument"}
    exp = xmen.functional_experiment(fn)
    assert exp.__name__ == "fn"
    assert exp.__doc__ == "Doc.\n\nParameters:\n    a: str=Hello ~ the first argument\n    b: int=3\n    c"
    assert exp().b == 3
