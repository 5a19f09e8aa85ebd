"""The event loop an audit runs on: uvloop where it is installed, asyncio's own otherwise.

Why: a worker's audit is CPU-bound in the event loop's own machinery (a task step, a future's
callbacks, a timer, a datagram read for each of the ~17 questions a domain asks), and uvloop
does that machinery in C on libuv. The results are the same on either loop (the audits the
test suite runs through the CLI, the workers and dnsaudit.testing run on uvloop, and a test
compares both loops; tests that call asyncio.run themselves stay on asyncio's).
``DNSAUDIT_EVENT_LOOP=asyncio`` chooses asyncio's loop, for comparing the two or for a
platform where uvloop misbehaves, and ``DNSAUDIT_EVENT_LOOP=uvloop`` insists on it.

Measured with callgrind (instructions, which the machine's load does not move), one process
auditing the bench world through a warm Unbound, 150 and 450 domains: 29.2 million
instructions per domain on asyncio's loop, 26.6 million on uvloop (-9 %, reports included);
the fixed cost of a run (imports, start-up) the same, 4.5 billion. bench/README.md, "fourth
round".
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

CHOICES = ("auto", "uvloop", "asyncio")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None for asyncio's default loop."""
    choice = os.environ.get("DNSAUDIT_EVENT_LOOP", "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise ValueError(f"{choice!r} is not an event loop; use one of {', '.join(CHOICES)}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the chosen loop (``asyncio.Runner``: same clean-up, same SIGINT)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def name() -> str:
    """The loop this process would run on, for --stats: 'uvloop' or 'asyncio'."""
    return "asyncio" if loop_factory() is None else "uvloop"
