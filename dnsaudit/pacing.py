"""How many domains are audited at once: waiting costs no slot.

A real list holds domains whose name servers are slow, far away or gone. If every domain in
progress held one of ``--concurrency`` slots until it finished, a few dead domains (each
waiting seconds for a timeout) would set the pace of the whole run while the CPU idles. So
the runner counts two things:

- **active** domains, at most ``--concurrency``: a domain is active while it works or waits
  for answers that come quickly. This is the number a user reasons about: it bounds the
  load on the resolver (queries in flight grow with it) and the CPU work in progress.
- domains **in progress**, at most ``WAITING_ALLOWANCE`` times as many: a domain whose every
  pending DNS answer has been outstanding longer than ``PATIENCE`` seconds steps aside (it
  gives its active slot to the next domain) and steps back in, waiting for a free slot
  like any other, when its answer arrives. The allowance bounds what waiting domains cost:
  memory and open lookups.

A fast domain never notices any of this: its answers arrive well within ``PATIENCE``. The
DNS client calls :func:`patiently` around each answer it has to wait for; outside an audit
(no slot in the context) it is a plain ``await``.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

# An answer that takes longer than this is "slow": a resolver with the answer cached replies
# in a millisecond, one that recurses to a healthy server in tens of milliseconds. 250 ms is
# above the round trip to almost any name server on earth and well below a timeout.
PATIENCE = 0.25
# Domains in progress per active slot: waiting domains cost memory and open lookups, little else.
WAITING_ALLOWANCE = 4

_CURRENT: contextvars.ContextVar[DomainSlot | None] = contextvars.ContextVar("dnsaudit_domain_slot", default=None)


class Pacer:
    """The run's two limits: ``active`` domains working, ``in_progress`` domains at most."""

    def __init__(self, active: int, *, allowance: int = WAITING_ALLOWANCE, patience: float = PATIENCE) -> None:
        self.active = max(1, active)
        self.in_progress = self.active * max(1, allowance)
        self.patience = patience
        self._slots = asyncio.Semaphore(self.active)
        self.stepped_aside = 0  # how often a domain gave its slot away while waiting (for --stats)

    async def admit(self) -> DomainSlot:
        """Wait for an active slot for a new domain; the caller runs the domain in
        :meth:`DomainSlot.running` and calls :meth:`DomainSlot.finish` at its end."""
        await self._slots.acquire()
        return DomainSlot(self)


class DomainSlot:
    """One domain's claim on an active slot, given away while all it does is wait.

    A domain runs its checks side by side, so several of its lookups may be slow at once:
    the slot is given away when the first one turns slow and taken back (after waiting
    for a free one) when none is slow any more.
    """

    __slots__ = ("_taking_back", "finished", "holding", "pacer", "slow")

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self.slow = 0  # this domain's lookups outstanding longer than the pacer's patience
        self.holding = True
        self.finished = False
        # While the domain waits for a free slot again: the one wait all its lookups share
        # (two lookups each taking a slot back would take two, and one would never be returned).
        self._taking_back: asyncio.Task[None] | None = None

    def running(self) -> contextvars.Token[DomainSlot | None]:
        """Make this the slot of the code that runs from here on (the domain's task)."""
        return _CURRENT.set(self)

    def finish(self) -> None:
        """The domain is done: its slot goes back (or, if it is still being taken back, as
        soon as it has been)."""
        self.finished = True
        if self.holding:
            self.holding = False
            self.pacer._slots.release()

    def _step_aside(self) -> None:
        if self.finished:
            return
        self.slow += 1
        if self.slow == 1 and self.holding:
            self.holding = False
            self.pacer.stepped_aside += 1
            self.pacer._slots.release()

    async def _step_in(self) -> None:
        self.slow -= 1
        if self.slow or self.holding or self.finished:
            return
        if self._taking_back is None:
            self._taking_back = asyncio.get_running_loop().create_task(self._take_back())
        await asyncio.shield(self._taking_back)  # an asker that is cancelled leaves it running

    async def _take_back(self) -> None:
        await self.pacer._slots.acquire()
        self._taking_back = None
        if self.finished:  # the domain ended meanwhile (a check timed out while waiting here)
            self.pacer._slots.release()
        else:
            self.holding = True


def reset_slot(token: contextvars.Token[DomainSlot | None]) -> None:
    """Undo :meth:`DomainSlot.running` (the lane moves on to its next domain)."""
    _CURRENT.reset(token)


async def patiently(answer: Awaitable[T]) -> T:
    """Await ``answer``; if it is slow, let the domain's active slot go meanwhile.

    ``answer`` must be safe to wait on past a timeout (a shielded future): a slow answer is
    waited for to its end, only without holding a slot.
    """
    slot = _CURRENT.get()
    if slot is None:
        return await answer
    future = asyncio.ensure_future(answer)
    turned_slow = False

    def turn_slow() -> None:
        nonlocal turned_slow
        if not future.done():
            turned_slow = True
            slot._step_aside()

    timer = asyncio.get_running_loop().call_later(slot.pacer.patience, turn_slow)  # cheaper than asyncio.wait
    try:
        return await future
    finally:
        timer.cancel()
        if turned_slow:
            await slot._step_in()
