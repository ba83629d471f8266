"""The Monitor over the Rust Monitor and the hook libraries.

`Monitor(log=..., time=..., msg=..., probe=..., limit=..., hooks=[...])` builds the same hooks a
Rust experiment's `Monitor::builder()` builds, from the same libraries, plus the `_hooks` of
the running experiment's record. Wrapped loops (`for x in m(data)`) count steps in Rust; the
frame's locals are read only when a hook fires.
"""
import weakref

from xmen import _xmen


class Hook:
    """A hook written in Python: `spec` (`'loss@10s'`; no `@` for a manual hook fed by
    `to_hooks`) and `call(var_dict, monitor)`, as in the original."""

    def __init__(self, spec):
        self.spec = spec

    def call(self, var_dict, monitor):
        raise NotImplementedError("All methods must implement the call method")


class Monitor(_xmen._Monitor):
    """`Monitor(*, hooks=[], log=None, log_fn=None, log_format='', time=(), msg=None,
    msg_keep='latest', msg_leader=None, msg_expand=False, msg_prep=None, probe=None,
    limit=None, directory=None, lenient=False, record_hooks=True)`.

    Each of `log`, `time`, `msg`, `probe` takes a spec or a list of specs; `log_fn`,
    `log_format` and the `msg_*` options take one value for every spec or one per spec.
    """

    def __init__(self, *args, **kwargs):
        # Python hooks receive this Monitor; a weak reference keeps no cycle.
        self._bind(weakref.ref(self))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False



class TorchMonitor(Monitor):
    """`TorchMonitor(directory=None, *, ckpt=None, ckpt_keep=None, sca/img/hist/fig/txt/vid
    (+ _fn, _pref, _prep), img_options, ...)`: the Monitor with TensorBoard summaries and
    checkpoints written into `directory`."""

    def __new__(cls, directory=None, **kwargs):
        return super().__new__(cls, directory=directory, **kwargs)

    def __init__(self, directory=None, **kwargs):
        super().__init__()


__all__ = ["Hook", "Monitor", "TorchMonitor"]
