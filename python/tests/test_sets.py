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
    listing = env.xmen("list", f"{env.tmp}/*", "-s", "-f", "a", "b").stdout  # -f takes several values
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


def test_the_command_line_flags_txt_debug_detached_restart_and_update_from_a_file(env):
    script = env.script("hello.py", HELLO)
    # -t copies the output to out.txt; -p records the purpose.
    env.run([script, "-u", "{a: Hey}", "-p", "a", "purpose", "-x", env.tmp / "t", "-t"])
    assert "Hey World!" in (env.tmp / "t" / "out.txt").read_text()
    rec = _xmen.load_record(str(env.tmp / "t" / "params.yml"))
    assert rec["_purpose"] == "a purpose"
    # -u takes a params.yml's parameters; -d runs as debug (not linked).
    run = env.run([script, "-u", env.tmp / "t" / "params.yml", "-d", "-x", env.tmp / "d"])
    assert run.stdout.startswith("Running as debug\n") and "Hey World!" in run.stdout
    # -x alone runs detached: nothing is written.
    assert "Hello World!" in env.run([script, "-x"]).stdout
    # -f re-runs a finished folder in place instead of registering t_0.
    env.run([script, "-x", env.tmp / "t", "-f"])
    assert not (env.tmp / "t_0").exists()
    # Unknown parameters and bad YAML are refused, naming the value.
    bad = env.run([script, "-u", "{c: 1}", "-x", env.tmp / "bad"], check=False)
    assert bad.returncode == 1 and "c" in bad.stderr and not (env.tmp / "bad").exists()
    # Running a params.yml that already finished is refused.
    again = env.run([script, "-x", env.tmp / "t" / "params.yml"], check=False)
    assert again.returncode == 1 and "finished" in again.stderr


def test_an_exception_in_run_is_recorded_error_and_propagates_with_its_traceback(env):
    script = env.script("fails.py", '''
from xmen import Experiment


class Fails(Experiment):
    """Fails."""

    x: int = 1  # @p x

    def run(self):
        raise KeyError("missing data")


if __name__ == "__main__":
    Fails().main()
''')
    run = env.run([script, "-x", env.tmp / "f"], check=False)
    assert run.returncode == 1
    assert "Traceback" in run.stderr and "KeyError: 'missing data'" in run.stderr
    # The runner's banner (the SDK's wording: the original's "encountered" (sic) was dropped).
    assert "#" * 24 + "\nAn error occurred\n" + "#" * 24 in run.stdout, run.stdout
    rec = _xmen.load_record(str(env.tmp / "f" / "params.yml"))
    assert rec["_status"] == "error" and "missing data" in rec["_messages"]["error"]
