"""dnsaudit.sigint: a KeyboardInterrupt that Python swallowed (raised where exceptions
cannot propagate) is remembered and raised again, and nothing else changes."""

from __future__ import annotations

import sys

import pytest

from dnsaudit.sigint import lost, raise_if_lost, unwrapping, watching, wrapped_interrupt


def test_a_swallowed_keyboard_interrupt_is_raised_again_once(capsys, swallow):
    with watching():
        swallow(KeyboardInterrupt())
        assert capsys.readouterr().err == ""  # no "Exception ignored" traceback on the terminal
        with pytest.raises(KeyboardInterrupt):
            raise_if_lost()
        raise_if_lost()  # once


def test_other_unraisable_errors_go_to_the_hook_as_before_and_the_hook_is_restored(monkeypatch, swallow):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    with watching():
        with watching():  # nested: one hook
            swallow(ValueError("boom"))
        raise_if_lost()  # nothing to raise
    assert [type(u.exc_value) for u in seen] == [ValueError]
    assert sys.unraisablehook == seen.append
    swallow(KeyboardInterrupt())  # outside: not remembered
    raise_if_lost()
    assert [type(u.exc_value) for u in seen] == [ValueError, KeyboardInterrupt]


def test_what_was_swallowed_is_forgotten_at_the_end_of_the_block(swallow):
    with watching():
        swallow(KeyboardInterrupt())
    with watching():
        raise_if_lost()


class Interrupting:
    """A descriptor whose ``__set_name__`` is interrupted, as SIGINT can interrupt any Python code."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __set_name__(self, owner: type, name: str) -> None:
        raise self.exc


def make_class(exc: BaseException) -> type:
    return type("Made", (), {"field": Interrupting(exc)})


def test_an_interrupt_wrapped_while_a_class_is_made_leaves_as_keyboard_interrupt():
    with pytest.raises(KeyboardInterrupt), unwrapping():
        make_class(KeyboardInterrupt())
    with pytest.raises(RuntimeError if sys.version_info < (3, 12) else ValueError), unwrapping():
        make_class(ValueError("not an interrupt"))
    with pytest.raises(RuntimeError, match="other"), unwrapping():
        raise RuntimeError("other") from KeyboardInterrupt()


FORKED_WRITERS = """
import os, signal
import dnsaudit.gctune
from dnsaudit import output

parent = os.getpid()
# A Ctrl-C arriving in a report writer at its first line (a terminal's reaches the whole group)
dnsaudit.gctune.freeze_forked_child = lambda: os.kill(os.getpid(), signal.SIGINT)
try:
    done, _memory, _cpu = output._forked([lambda: ["a"], lambda: ["b"]], [[0], [1]])
    print("done", sorted(done.items()))
except BaseException as exc:
    print(type(exc).__name__, "in the parent" if os.getpid() == parent else "in a child")
"""


def test_report_writers_start_deaf_to_sigint():
    """A forked report writer ignores SIGINT from its first line (the parent stops the writers when it is
    interrupted): before, one that came before the child's own handling left through the parent's stack and the
    run printed its "interrupted" line twice (seen in tmux)."""
    import subprocess

    ran = subprocess.run([sys.executable, "-c", FORKED_WRITERS], capture_output=True, text=True, timeout=60)
    assert ran.stdout == "done [(0, ['a']), (1, ['b'])]\n", ran.stdout + ran.stderr


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 no longer wraps (gh-77757); the unwrapping is 3.11's")
def test_an_interrupt_wrapped_twice_is_found_and_code_that_catches_exception_lets_it_through():
    class Outer:
        def __set_name__(self, owner: type, name: str) -> None:
            make_class(KeyboardInterrupt())  # a class made while another one is made

    with pytest.raises(RuntimeError) as twice:
        type("Made", (), {"field": Outer()})
    assert isinstance(twice.value.__cause__, RuntimeError) and wrapped_interrupt(twice.value)
    with pytest.raises(KeyboardInterrupt), unwrapping():
        raise twice.value
    assert not wrapped_interrupt(RuntimeError("Error calling __set_name__ on 'x'"))

    from dnsaudit import registry

    class Interrupted:  # an entry point whose import is interrupted while a dataclass is made
        def load(self):
            make_class(KeyboardInterrupt())

    found = registry.Found.__new__(registry.Found)
    object.__setattr__(found, "entry_point", Interrupted())
    with pytest.raises(KeyboardInterrupt):
        registry.load(found)


def test_one_swallowed_as_the_command_finished_is_said_not_dropped(swallow, monkeypatch, capsys):
    from dnsaudit import __main__ as entry
    from dnsaudit import cli

    def finishing(_argv):
        swallow(KeyboardInterrupt())  # after the last point that would act on it
        return 0

    monkeypatch.setattr(cli, "_main", finishing)
    monkeypatch.setattr(sys, "argv", ["dnsaudit", "checks"])
    assert entry.run() == 0
    assert capsys.readouterr().err == ("dnsaudit: Ctrl-C came as the command was finishing; it finished "
                                       "(the exit code is its own)\n")
    assert not lost()
