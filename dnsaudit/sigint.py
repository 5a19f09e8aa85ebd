"""Ctrl-C (SIGINT) during an audit: acted on where it is heard, and never lost.

Python turns SIGINT into KeyboardInterrupt in whatever Python code runs at that instant,
and two kinds of code there do not let it through:

- a weakref callback, a ``__del__`` method or a garbage-collector callback: an exception
  there cannot propagate, so the interpreter reports it as "Exception ignored in ..."
  (``sys.unraisablehook``) and carries on, and the Ctrl-C is gone;
- ``__set_name__`` while a class is made (a module importing): CPython 3.11 wraps the
  exception in a RuntimeError.

Both seen with tests/integration/test_history.py's Ctrl-C-at-any-moment test (3 failures in
~25 runs of it on a loaded two-core machine) and with a harness built on it that sent 14
SIGINTs a run, 0.06-0.4 s into a two-worker run (4 failures in ~1,450): a SIGINT inside importlib's module-lock callback
(``_get_module_lock.<locals>.cb``, called when a lock is collected during one of the
audit's lazy imports) left the run auditing all 3,000 domains; one inside a dataclass's
field ended it with a traceback and exit 1.

:func:`watching` (the command's entry point and ``run_audit``) installs a hook that
remembers a swallowed KeyboardInterrupt and keeps its traceback off the terminal;
:func:`raise_if_lost` raises it again where the run goes on to long work (once the
arguments are read, as the audit's coroutine begins, as the workers start and while their
results come in, before the reports). One swallowed after the last of those points (the run
was finishing) is said on stderr by the entry point. :func:`unwrapping` turns the wrapped
one back into KeyboardInterrupt.

A terminal's Ctrl-C goes to the whole process group, so the processes the audit starts (the
workers, the report writers) are started under :func:`held_sigint` and made
:func:`deaf_to_sigint` at their first line: only the main process acts on Ctrl-C, and it
stops them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

_lost = False


def _remembering(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        global _lost
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _lost = True
            return
        previous(unraisable)

    hook.dnsaudit_previous = previous  # type: ignore[attr-defined]
    return hook


def wrapped_interrupt(exc: BaseException) -> bool:
    """``exc`` is a KeyboardInterrupt that CPython 3.11 wrapped while a class was made: a
    ``RuntimeError("Error calling __set_name__ ...")`` caused by one, at any depth (a class made
    while another one is made wraps it once more). Code that turns every Exception into a
    message of its own (a plugin that cannot be imported) asks this first."""
    seen = 0
    while isinstance(exc, RuntimeError) and "__set_name__" in str(exc) and seen < 100:
        cause = exc.__cause__
        if isinstance(cause, KeyboardInterrupt):
            return True
        if cause is None:
            return False
        exc, seen = cause, seen + 1
    return False


@contextlib.contextmanager
def unwrapping() -> Iterator[None]:
    """A KeyboardInterrupt that CPython 3.11 wrapped leaves the block as the KeyboardInterrupt.

    Raised while a class is made (a module importing: a dataclass's fields), 3.11 wraps it in
    ``RuntimeError("Error calling __set_name__ ...")``; 3.12 no longer does (gh-77757). Seen
    in the same test: a traceback and exit 1 instead of one line and 130."""
    try:
        yield
    except RuntimeError as exc:
        if wrapped_interrupt(exc):
            raise KeyboardInterrupt from None
        raise


@contextlib.contextmanager
def watching() -> Iterator[None]:
    """Remember a KeyboardInterrupt swallowed as unraisable while the block runs (nested
    blocks share the outer one's hook; the hook in place before is restored at the end)."""
    global _lost
    if hasattr(sys.unraisablehook, "dnsaudit_previous"):
        yield
        return
    previous = sys.unraisablehook
    _lost = False
    ours = sys.unraisablehook = _remembering(previous)
    try:
        yield
    finally:
        if sys.unraisablehook is ours:  # one set inside the block stays
            sys.unraisablehook = previous
        _lost = False


def lost() -> bool:
    """A KeyboardInterrupt was swallowed after the last :func:`raise_if_lost` (one that came as
    the run finished: the entry point says so rather than saying nothing)."""
    return _lost


def raise_if_lost() -> None:
    """Raise the KeyboardInterrupt that Python swallowed since the last call, if any."""
    global _lost
    if _lost:
        _lost = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def plain_sigint() -> Iterator[None]:
    """Make SIGINT raise KeyboardInterrupt in this block, here and now, instead of whatever
    handler is set (asyncio's, which only cancels a task at its next ``await``: a block that
    never awaits would run to its end first).

    An ignored SIGINT stays ignored: a shell ignores it for a job started in the background
    of a script, so that Ctrl-C meant for the foreground does not stop it, and Python and
    asyncio leave it so too. Outside the main thread nothing changes (Python runs signal
    handlers in the main thread only)."""
    import signal
    import threading

    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread() or previous in (signal.SIG_IGN, None)
            or previous is signal.default_int_handler):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def held_sigint() -> Iterator[None]:
    """SIGINT while the block runs (a worker process starting) is acted on once it has
    ended, and the worker starts deaf to it.

    A start cut short left the new interpreter with half its job to read (and, cut short
    before multiprocessing had noted the new process, a worker that nobody stopped). And a
    terminal's Ctrl-C goes to the whole process group: a worker still importing when it came
    printed its KeyboardInterrupt traceback on the terminal (seen in tmux, Ctrl-C 0.6 s
    into a two-worker run). So, for the block, SIGINT's handler only takes note, and SIGINT
    is blocked in this thread: the signal mask is inherited across fork and exec (POSIX;
    multiprocessing's resource tracker starts the same way), so the worker starts with
    SIGINT blocked and :func:`deaf_to_sigint` ignores it there. The main process stops its
    workers itself when it is interrupted. The mask alone would not do for this process:
    it is per thread, and a SIGINT sent to the process goes to a thread that does not block
    it (uvloop's libuv workers), whose handler call then lands in the main thread anyway."""
    import signal

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    heard: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: heard.append(signum))
    masks = hasattr(signal, "pthread_sigmask")  # not on Windows
    if masks:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if masks:  # one pending in this thread reaches the note-taker now
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if heard:
        raise KeyboardInterrupt


def deaf_to_sigint() -> None:
    """In a worker process: ignore SIGINT (blocked since it started, see :func:`held_sigint`;
    a pending one is dropped). Ctrl-C is the main process's to act on: it stops the workers."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
