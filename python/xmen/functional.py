"""The functional API: a function whose first argument receives the experiment and
whose other arguments are its parameters."""
import inspect
import textwrap

from xmen import _xmen
from xmen.experiment import Experiment
from xmen.utils import ParamDecl

#: The experiment a functional experiment's first argument receives.
Root = Experiment


def _simple_type(annotation):
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def read_comments(fn):
    """`{parameter: help}` harvested from the comments of `fn`'s signature: the
    comment on the line declaring the parameter, extended by the comment-only lines that
    follow it."""
    try:
        lines = inspect.getsource(fn).splitlines()
    except (OSError, TypeError):
        return {}
    names = list(inspect.signature(fn).parameters)[1:]
    # Start after the opening parenthesis of the signature.
    start = next((i for i, l in enumerate(lines) if "(" in l and "def " in l), 0)
    helps = {}
    for name in names:
        for i in range(start, len(lines)):
            line = lines[i]
            code = line.split("#")[0].replace(" ", "")
            if i == start:
                code = code.split("(", 1)[-1]
            head = code.split(":")[0] if ":" in code else code.split("=")[0]
            if head != name:
                continue
            if line.count("#") != 1:
                break
            parts = [line.split("#", 1)[1].strip()]
            for nxt in lines[i + 1:]:
                s = nxt.strip()
                if s.startswith("#") and s.count("#") == 1:
                    parts.append(s[1:].strip())
                else:
                    break
            helps[name] = " ".join(p for p in parts if p)
            break
    return helps


def _decls(fn):
    helps = read_comments(fn)
    decls = []
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        default = "" if p.default is inspect.Parameter.empty or p.default is None else _xmen.py_str(p.default)
        decls.append(ParamDecl(p.name, _simple_type(p.annotation), default, helps.get(p.name, ""), fn.__name__))
    return decls


def _doc(fn, decls):
    doc = (fn.__doc__ or "").rstrip()
    lines = [doc, "", "Parameters:"]
    for d in decls:
        lines += textwrap.wrap(d.help_line(), 70, initial_indent="    ", subsequent_indent="      ", break_long_words=False)
    return "\n".join(lines)


def autodoc(fn):
    """Append the `Parameters:` block to `fn`'s docstring."""
    if not getattr(fn, "_xmen_autodoc", False):
        fn.__doc__ = _doc(fn, _decls(fn))
        fn._xmen_autodoc = True
    return fn


def functional_experiment(fn):
    """An experiment type from a function: named after it, one parameter per
    argument after the first, whose run calls `fn(experiment, **parameters)`."""
    decls = _decls(fn)
    params = {d.name: d for d in decls}
    defaults = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        defaults[p.name] = None if p.default is inspect.Parameter.empty else p.default

    def run(self):
        return fn(self, **{n: getattr(self, n) for n in params})

    doc = fn.__doc__ if getattr(fn, "_xmen_autodoc", False) else _doc(fn, decls)
    ns = dict(defaults)
    ns.update({"run": run, "__doc__": doc, "__module__": fn.__module__, "_xmen_function": True,
               "_xmen_own": [], "__qualname__": fn.__name__})
    cls = type(fn.__name__, (Experiment,), ns)
    cls._xmen_params = params
    cls.__doc__ = doc
    cls._xmen_source_file = inspect.getsourcefile(fn)
    return cls


__all__ = ["Root", "read_comments", "autodoc", "functional_experiment"]
