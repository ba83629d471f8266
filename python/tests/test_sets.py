"""A Python experiment in an experiment set: `xmen init`, a sweep with `register`, `xmen run`,
`xmen list`, and the same sweep by a Rust experiment beside it."""
import os

from conftest import EXAMPLES, required_env
from xmen import _xmen

HELLO = (EXAMPLES / "hello_world.py").read_text().split("\n", 1)[1]
SWEEP = "{a: Hi | Bye, b: World | There}"


def names(folder):
    return sorted(p.name for p in folder.iterdir() if (p / "params.yml").is_file())


def test_a_python_experiment_is_initialised_swept_run_and_listed(env):
    script = env.script("hello.py", HELLO)
    env.xmen("init", "-n", script, "-r", "set", "-p", "greetings")
    root = env.tmp / "set"
    assert (root / "defaults.yml").is_file() and os.access(root / "script.sh", os.X_OK)
    defaults = (root / "defaults.yml").read_text()
    assert "a: Hello # a: str='Hello' ~ The first argument" in defaults
    env.xmen("register", "-r", "set", "-u", SWEEP)
    assert names(root) == ["a=Bye__b=There", "a=Bye__b=World", "a=Hi__b=There", "a=Hi__b=World"]
    run = env.xmen("run", "-r", "set", "*", "bash")
    assert "Bye There!" in run.stdout and "Hi World!" in run.stdout
    for n in names(root):
        rec = _xmen.load_record(str(root / n / "params.yml"))
        assert rec["_status"] == "finished", (n, rec["_status"])
        assert f"a={rec['a']}__b={rec['b']}" == n
        assert rec["_version"]["class"] == "HelloWorld"
    listing = env.xmen("list", "-s", "set").stdout
    assert listing.count("finished") == 4, listing


def test_a_rust_and_a_python_sweep_are_listed_side_by_side(env):
    rust = required_env("XMEN_RUST_EXAMPLES") / "hello_world"
    script = env.script("hello.py", HELLO)
    env.xmen("init", "-n", script, "-r", "py", "-p", "python")
    env.xmen("init", "-n", rust, "-r", "rs", "-p", "rust")
    for s in ("py", "rs"):
        env.xmen("register", "-r", s, "-u", SWEEP)
        env.xmen("run", "-r", s, "*", "bash")
    assert names(env.tmp / "py") == names(env.tmp / "rs")
    listing = env.xmen("list", "-s", "-f", "a", "-f", "b", f"{env.tmp}/*").stdout
    lines = [line for line in listing.splitlines() if "finished" in line]
    assert len(lines) == 8, listing
    for n in names(env.tmp / "py"):
        py = (env.tmp / "py" / n / "params.yml").read_text()
        rs = (env.tmp / "rs" / n / "params.yml").read_text()
        # The same writer: the same keys in the same order, the same layout of every value
        # line; only help comments (Rust types), times, versions and meta differ.
        def keys(text):
            return [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "-"))]
        assert keys(py) == keys(rs)
        for key in ("a", "b", "_status"):
            pick = lambda text: next(l for l in text.splitlines() if l.startswith(key + ":")).split("#")[0]
            assert pick(py) == pick(rs)
