"""Helpers shared by the class and functional APIs: reading `# @p` declarations from source
with `inspect` and `tokenize`, help lines, and Python-style value text."""
import inspect
import io
import re
import textwrap
import tokenize

from xmen import _xmen

_DECL = re.compile(r"^\s*(?:self\.)?([A-Za-z_]\w*)\s*(?::\s*(.*?))?\s*(?:=\s*(.*?))?\s*$")


class ParamDecl:
    """One declared parameter: name, type text, default text (source), help, owner."""

    __slots__ = ("name", "type", "default", "help", "owner")

    def __init__(self, name, type, default, help, owner):
        self.name, self.type, self.default, self.help, self.owner = name, type, default, help, owner

    def help_line(self):
        """`{name}[: {type}][={default}][ ~ {help}]`, the one help format xmen writes."""
        return _xmen.help_line(self.name, self.type or None, self.default or None, self.help or None)

    def __repr__(self):
        return f"ParamDecl({self.help_line()!r}, owner={self.owner!r})"


def source_declarations(source, owner):
    """The `# @p` declarations of a class body (or `__init__`): a line that is not a pure
    comment and whose comment starts `#@p` once spaces are removed. The comment is
    found with `tokenize`, so a `#` inside a string never counts."""
    text = textwrap.dedent(source)
    lines = text.splitlines()
    out = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return out
    for tok in tokens:
        if tok.type != tokenize.COMMENT or not tok.string.replace(" ", "").startswith("#@p"):
            continue
        row, col = tok.start
        code = lines[row - 1][:col]
        if not code.strip():
            continue
        m = _DECL.match(code)
        if not m:
            continue
        help = tok.string[tok.string.index("@p") + 2:].strip()
        name, ty, default = m.group(1), (m.group(2) or "").strip(), (m.group(3) or "").strip()
        out.append(ParamDecl(name, ty, default, help, owner))
    return out


def class_source(cls):
    """The source of `cls`, or `None` when it has none (defined in an interactive session)."""
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return None


def py_str(value):
    """`str(value)` as xmen renders it in folder names and logs."""
    return _xmen.py_str(value)
