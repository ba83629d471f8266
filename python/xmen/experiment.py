"""The class API: `class MyExp(Experiment)` with `# @p` parameters.

Every record file is written by the Rust record crate and every run goes through the SDK's
runner, so `xmen list` cannot tell a Python run from a Rust one.
"""
import argparse
import copy
import inspect
import os
import sys

from xmen import _xmen
from xmen.utils import ParamDecl, class_source, source_declarations

_STATUSES = ("default", "registered", "running", "finished", "error", "stopped", "timeout", "requeue", "detached")
_PROPERTIES = (
    "root", "directory", "status", "created", "start", "registered", "stopped", "last", "purpose",
    "messages", "version", "notes", "user", "host", "is_debug",
)


def _own_declarations(klass):
    """`klass`'s own `# @p` declarations, parsed once from its source."""
    if "_xmen_own" not in klass.__dict__:
        src = class_source(klass)
        decls = source_declarations(src, klass.__name__) if src else []
        # Only public names of the class namespace, as in the original.
        decls = [d for d in decls if not d.name.startswith("_") and d.name in klass.__dict__]
        klass._xmen_own = decls
    return klass._xmen_own


def _collect(cls):
    """Parameters merged along the reversed MRO: nearer classes override farther ones; a name
    turned into a property or a method is removed."""
    params = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Experiment)):
            continue
        for d in _own_declarations(klass):
            params[d.name] = d
    for name in list(params):
        attr = inspect.getattr_static(cls, name, None)
        if isinstance(attr, property) or inspect.isfunction(attr) or inspect.ismethoddescriptor(attr):
            del params[name]
    return params


def _doc_block(cls, params):
    """The docstring's `Parameters:` block, one group per declaring class."""
    owners = []
    for p in params.values():
        if p.owner not in owners:
            owners.append(p.owner)
    lines = ["", "Parameters:"]
    for owner in [k.__name__ for k in reversed(cls.__mro__) if k.__name__ in owners]:
        lines += ["  ", f"  {owner}", f"  {'-' * len(owner)}"]
        lines += [f"     {p.help_line()}" for p in params.values() if p.owner == owner]
    return "\n".join(lines)


class Experiment:
    """The base class of experiments."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._xmen_params = _collect(cls)
        cls._xmen_doc = (cls.__dict__.get("__doc__") or "").rstrip()
        if cls._xmen_params:
            cls.__doc__ = cls._xmen_doc + "\n" + _doc_block(cls, cls._xmen_params)

    _xmen_params = {}

    def __init__(self, root=None, purpose="", copy_params=True, **overrides):
        object.__setattr__(self, "_xmen_status", "default")
        object.__setattr__(self, "_xmen_native_root", None)
        object.__setattr__(self, "_xmen_hooks", None)
        object.__setattr__(self, "_xmen_debug", False)
        for name in self._xmen_params:
            value = getattr(type(self), name)
            object.__setattr__(self, name, copy.deepcopy(value) if copy_params else value)
        if overrides:
            self.update(overrides)
        if root is not None:
            self.register(root, purpose)

    # ---- parameters ------------------------------------------------------------------------

    def __setattr__(self, name, value):
        if name in _PROPERTIES:
            raise AttributeError(f"Property {name} cannot be set.")
        if name in self._xmen_params and self._xmen_status not in ("default", "detached"):
            raise AttributeError('Parameters can only be changed when status = "default" or "detached"')
        object.__setattr__(self, name, value)

    def _params(self):
        """`(name, value, help line)` of every parameter, in declaration order."""
        return [(n, getattr(self, n), d.help_line()) for n, d in self._xmen_params.items()]

    def _version(self):
        cls = type(self)
        try:
            path = inspect.getfile(cls)
        except TypeError:
            path = sys.argv[0]
        return _xmen.version(cls.__module__, cls.__name__, os.path.abspath(path), getattr(cls, "_xmen_function", False))

    def update(self, kwargs, origin="update"):
        """Set parameters from a dict (only in status default or detached): unknown names and
        specials are refused."""
        if self._xmen_status not in ("default", "detached"):
            raise AttributeError("Parameters of a created experiment cannot be updated.")
        values, hooks = _xmen.apply_update(self._params(), dict(kwargs), origin)
        for name, value in values:
            object.__setattr__(self, name, value)
        if hooks is not None:
            object.__setattr__(self, "_xmen_hooks", hooks)

    def debug(self):
        """Called with `--debug` before updates: shrink the experiment for a quick run."""

    # ---- record ----------------------------------------------------------------------------

    def _record(self):
        r = self._xmen_native_root
        return r.record() if r is not None and not r.is_detached else {}

    @property
    def root(self):
        r = self._xmen_native_root
        return None if r is None else r.directory

    directory = root

    @property
    def status(self):
        return self._xmen_status

    @property
    def is_debug(self):
        return self._xmen_debug

    def _special(self, key):
        return self._record().get(key)

    @property
    def messages(self):
        return self._special("_messages") or {}

    @property
    def notes(self):
        return self._special("_notes") or []

    @property
    def purpose(self):
        return self._special("_purpose")

    @property
    def version(self):
        return self._special("_version")

    @property
    def user(self):
        return self._special("_user")

    @property
    def host(self):
        return self._special("_host")

    def _timestamp(self, key):
        return (self._special("_timestamps") or {}).get(key)

    created = property(lambda self: self._timestamp("created"))
    start = property(lambda self: self._timestamp("start"))
    registered = property(lambda self: self._timestamp("registered"))
    stopped = property(lambda self: self._timestamp("stopped"))
    last = property(lambda self: self._timestamp("last"))

    def register(self, root, purpose="", force=True, same_names=100, restart=False):
        """Register the experiment in its own folder `root`: `root_0`, `root_1`, ...
        when `root` already holds a params.yml."""
        folder = _xmen.register_record(
            os.path.abspath(root), self._params(), self._version(), purpose, restart,
            not self._xmen_debug, self._xmen_hooks, force, same_names,
        )
        object.__setattr__(self, "_xmen_native_root", _xmen.Root.open(type(self).__name__, folder))
        if restart:
            self._load_values(os.path.join(folder, "params.yml"))
        object.__setattr__(self, "_xmen_status", "registered")

    def detach(self):
        """Run without persisting anything."""
        object.__setattr__(self, "_xmen_native_root", _xmen.Root.detached(type(self).__name__))
        object.__setattr__(self, "_xmen_status", "detached")

    def message(self, messages, keep="latest", leader=None):
        """Leave messages in params.yml (`_messages`); nothing without a root.

        The record's writer thread writes them at once, without this call waiting for the
        locked write; reading the record (`messages`, ...), the run's end and the
        interpreter's exit wait for it, and a failed write raises at the next call."""
        r = self._xmen_native_root
        if r is None:
            return
        r.message(dict(messages), keep, leader)

    def note(self, text, remove=False):
        """Add a note, or remove the first equal one."""
        r = self._xmen_native_root
        if r is None:
            raise ValueError("the experiment has no root: register it first")
        r.note(text, remove)

    def _load_values(self, path):
        for name, value in _xmen.load_record(path).items():
            if name in self._xmen_params:
                object.__setattr__(self, name, value)

    def from_yml(self, path, copy=False):
        """Load parameters (and, unless `copy`, the status and root) from a params.yml or
        defaults.yml."""
        rec = _xmen.load_record(path)
        for name, value in rec.items():
            if name in self._xmen_params:
                object.__setattr__(self, name, tuple(value) if isinstance(value, list) else value)
        if not copy:
            status = rec.get("_status", "default")
            object.__setattr__(self, "_xmen_status", status)
            if status != "default" and rec.get("_root"):
                object.__setattr__(self, "_xmen_native_root", _xmen.Root.open(type(self).__name__, rec["_root"]))
        if rec.get("_hooks") is not None:
            object.__setattr__(self, "_xmen_hooks", rec["_hooks"])
        return self

    def to_defaults(self, defaults_dir):
        """Write `{defaults_dir}/defaults.yml`."""
        _xmen.to_root(os.path.abspath(defaults_dir), self._params(), self._version(), None, None, self._xmen_hooks)

    def to_root(self, root_dir):
        """Write an experiment-set root: defaults.yml and script.sh running this script
        (docs/file-formats.md#scriptsh)."""
        program = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else inspect.getfile(type(self))
        interpreter = None if os.access(program, os.X_OK) else sys.executable
        _xmen.to_root(os.path.abspath(root_dir), self._params(), self._version(), program, interpreter, self._xmen_hooks)

    # ---- running ---------------------------------------------------------------------------

    def run(self):
        raise NotImplementedError(f"run is not implemented for {type(self).__name__}")

    def _execute(self, restart=False, txt=None):
        if self._xmen_status == "default":
            raise ValueError("An experiment in default status must be registered before it can be executed")
        exp = self

        def body(_root):
            object.__setattr__(exp, "_xmen_status", "running")
            exp.run()

        try:
            code = _xmen.run(self._xmen_native_root, body, restart, txt)
        finally:
            rec = self._record()
            object.__setattr__(self, "_xmen_status", rec.get("_status", self._xmen_status) if rec else "finished")
        return code

    def __call__(self):
        return self._execute()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        lines = []
        rec = self._record()
        for key in ("_root", "_status", "_notes", "_purpose", "_user", "_host", "_timestamps", "_messages", "_version", "_meta"):
            v = rec.get(key) if rec else ({"_status": self._xmen_status}.get(key))
            if v is None:
                continue
            if isinstance(v, dict):
                lines.append(f"{key[1:]}:")
                lines += _nested(v, 1)
            else:
                lines.append(f"{key[1:]}: {v}")
        lines.append("parameters:")
        lines += [f"  {n}: {_xmen.py_str(getattr(self, n))}" for n in self._xmen_params]
        return "\n".join(lines)

    # ---- command line ----------------------------------------------------------------------

    def main(self, args=None):
        """The single-experiment command line: -u -p -x -r -d -t -f. Exits with
        the run's status."""
        sys.exit(self._main(sys.argv[1:] if args is None else list(args)))

    def _main(self, argv):
        name = type(self).__name__
        prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else name
        parser = argparse.ArgumentParser(
            prog=prog,
            usage=f"{prog} -u YML -r PATH\n       {prog} -u YML -x DIR \n       {prog} -x PARAMS",
            epilog=type(self).__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("-u", "--update", nargs="+", action="extend", default=[], metavar="YML",
                            help="Update parameters from a YAML mapping or a params.yml/defaults.yml file")
        parser.add_argument("-p", "--purpose", nargs="+", metavar="STR", help="The purpose of the run")
        parser.add_argument("-x", "--execute", nargs="?", const="", metavar="PATH",
                            help="Run: a params.yml, a folder to register in, or nothing for a detached run")
        parser.add_argument("-r", "--to-root", "--to_root", dest="to_root", metavar="PATH",
                            help="Write defaults.yml and script.sh into PATH")
        parser.add_argument("-d", "--debug", action="store_true", help="Debug run")
        parser.add_argument("-t", "--txt", action="store_true", default=None, help="Copy output to out.txt")
        parser.add_argument("--no-txt", "--no_txt", dest="txt", action="store_false", help="Do not copy output")
        parser.add_argument("-f", "--restart", action="store_true", help="With -x DIR: reuse DIR/params.yml")
        a = parser.parse_args(argv)
        try:
            plan = self._plan(a)
        except (ValueError, RuntimeError, AttributeError) as e:
            sys.stdout.flush()
            print(f"ERROR: {e}", file=sys.stderr)
            return 1
        if isinstance(plan, int):
            return plan
        # The run's own exceptions propagate with their traceback, as in the original, after the
        # runner recorded `error` with the message.
        return self._execute(*plan)

    def _plan(self, a):
        """Everything before the run; returns an exit code, or the run's (restart, txt)."""
        if a.debug:
            print("Running as debug")
            object.__setattr__(self, "_xmen_debug", True)
            self.debug()
        execute_file = a.execute not in (None, "") and os.path.isfile(a.execute)
        if execute_file and a.update:
            raise ValueError(f"-u cannot change a registered run's parameters ({a.execute}); "
                             "register a new run with -u ... -x DIR")
        for i, text in enumerate(a.update, 1):
            self._apply_update(i, text)
        if not (a.debug or a.execute is not None or a.to_root or a.update):
            print(f"{type(self).__doc__}\n\nFor more help use --help.")
            return 0
        if a.to_root:
            print(f"Generating experiment root at {a.to_root}")
            self.to_root(a.to_root)
        if a.execute is None:
            return 0
        if a.execute == "":
            self.detach()
        elif execute_file:
            path = os.path.abspath(a.execute)
            declared = self._params()
            values, status, may_run = _xmen.check_params(path, declared, f"{type(self).__name__} (see its --help)", a.restart)
            if not may_run:
                raise ValueError(f"{path}: status `{status}` cannot run; reset it (`xmen reset`) or run with --restart")
            for n, v in values:
                if n in self._xmen_params:
                    object.__setattr__(self, n, v)
            object.__setattr__(self, "_xmen_native_root", _xmen.Root.open(type(self).__name__, os.path.dirname(path)))
            object.__setattr__(self, "_xmen_status", status)
        else:
            purpose = " ".join(a.purpose) if a.purpose else ""
            self.register(a.execute, purpose, restart=a.restart)
        return (a.restart, a.txt)

    def _apply_update(self, index, text):
        if os.path.isdir(text):
            raise ValueError(f"-u argument {index} ({text}): it is a folder; give the params.yml or defaults.yml inside it")
        if os.path.isfile(text):
            rec = _xmen.load_record(text)
            values = {k: v for k, v in rec.items() if not k.startswith("_")}
            if rec.get("_hooks") is not None:
                values["_hooks"] = rec["_hooks"]
            self.update(values, origin=text)
            return
        value = _xmen.parse_yaml(text, f"<-u argument {index}>")
        if not isinstance(value, dict):
            raise ValueError(f"-u argument {index} ({text}): it is neither a YAML mapping such as \"{{a: 1}}\" nor a file")
        print(f"Updating parameters {_xmen.py_str(value)}")
        self.update(value, origin=f"-u argument {index}")


def _nested(d, depth):
    out = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out.append(f"{'  ' * depth}{k}:")
            out += _nested(v, depth + 1)
        else:
            out.append(f"{'  ' * depth}{k}: {v}")
    return out


__all__ = ["Experiment", "ParamDecl"]
