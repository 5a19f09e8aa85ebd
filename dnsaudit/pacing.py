"""How many domains are audited at once: waiting costs no slot.

A real list holds domains whose name servers are slow, far away or gone. If every domain in
progress held one of ``--concurrency`` slots until it finished, a few dead domains (each
waiting seconds for a timeout) would set the pace of the whole run while the CPU idles. So
the runner counts two things:

- **active** domains, at most ``--concurrency``: a domain is active while it works or waits
  for answers that come quickly. This is the number a user reasons about: it bounds the
  load on the resolver (queries in flight grow with it) and the CPU work in progress.
- domains **in progress**, at most ``WAITING_ALLOWANCE`` times as many: a domain with a DNS
  answer outstanding longer than ``PATIENCE`` seconds steps aside (it gives its active slot
  to the next domain; its other checks may go on meanwhile) and steps back in, waiting for a
  free slot like any other, once none of its answers is slow any more. The allowance bounds
  what waiting domains cost: memory and open lookups.

A fast domain never notices any of this: its answers arrive well within ``PATIENCE``. The
DNS client calls :func:`patiently` around each answer it has to wait for; outside an audit
(no slot in the context) it is a plain ``await``.

What a wait costs matters: a run waits some 40 times per domain, nearly always for an
answer that comes in milliseconds. So :func:`patiently` neither arms a timer per wait nor
wraps the answer in ``asyncio.shield``: each wait is one future of its own, relayed from the
shared lookup (a cancelled waiter leaves the lookup running, as a shield would), and joins
its pacer's FIFO of waits (the patience is the same for every wait, so they fall due in the
order they began); one sweep, at most every quarter of ``PATIENCE``, lets the slot of each
wait that is still outstanding go. A wait turns slow after 1 to 1.25 times ``PATIENCE``.
Measured on this two-core machine under load (2026-12-02): a lookup task and its wait ~21 us
-> ~16 us of CPU (``asyncio.shield`` and a ``call_later`` per wait before); the workers of a
1,000-domain benchmark audit 10.7-11.6 -> 9.3-9.9 ms of CPU per domain.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections import deque
from typing import Any, TypeVar

T = TypeVar("T")

# An answer that takes longer than this is "slow": a resolver with the answer cached replies
# in a millisecond, one that recurses to a healthy server nearby in tens of milliseconds. A
# domain holds its slot through every wait shorter than this, so the patience sets how much
# of a run's slot time goes to waiting: with 250 ms (until the eleventh round) each answer of
# a name server 200 ms away kept its domain's slot all along. Measured with ``bench/run.py
# --domains 10000 --realistic`` (its classes +60, +200, +900 ms and dead), one run after the
# other on one machine (2026-12-07, uniform world 29.1-30.2 s): 250 ms 50.6 s, 150 ms 45.4 s,
# 100 ms 43.3-44.9 s, every working domain assessed; 50 ms 39.8 s, but 7 working domains
# could not be assessed (more domains waiting at once, more queries outstanding at the
# resolver, some of them lost). The uniform world (20 ms answers) is the same at 100 ms. With
# Unbound at Debian's default of 1,024 queries per thread (the benchmark sets 2,048) 100 ms
# took 43.0 s, every working domain assessed.
PATIENCE = 0.1
# Domains in progress per active slot: waiting domains cost memory and open lookups, little else.
WAITING_ALLOWANCE = 4
# DNS queries outstanding per domain in progress (a domain runs its checks side by side and
# waits on a few answers at once). The run's bound on queries sent and not yet answered
# follows from it, see outstanding_queries().
QUERIES_PER_DOMAIN = 4

_CURRENT: contextvars.ContextVar[DomainSlot | None] = contextvars.ContextVar("dnsaudit_domain_slot", default=None)


class Pacer:
    """The run's two limits: ``active`` domains working, ``in_progress`` domains at most."""

    def __init__(self, active: int, *, allowance: int = WAITING_ALLOWANCE, patience: float = PATIENCE) -> None:
        self.active = max(1, active)
        self.in_progress = self.active * max(1, allowance)
        self.patience = patience
        self._slots = asyncio.Semaphore(self.active)
        self.stepped_aside = 0  # how often a domain gave its slot away while waiting (for --stats)
        self._waits: deque[_Wait] = deque()  # outstanding waits, oldest first (see patiently)
        self._sweep_timer: asyncio.TimerHandle | None = None

    def _watch(self, wait: _Wait) -> None:
        self._waits.append(wait)
        if self._sweep_timer is None:
            self._sweep_timer = asyncio.get_running_loop().call_at(wait.due, self._sweep)

    def _sweep(self) -> None:
        """Let the slot of every wait outstanding past its patience go; sweep again when the
        oldest wait left falls due (a quarter of the patience later at the soonest)."""
        self._sweep_timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        waits = self._waits
        while waits:
            wait = waits[0]
            if not wait.future.done():
                if wait.due > now:
                    break
                wait.slow = True
                wait.slot._step_aside()
            waits.popleft()
        if waits:
            self._sweep_timer = loop.call_at(max(waits[0].due, now + self.patience / 4), self._sweep)

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


def outstanding_queries(active: int) -> int:
    """The bound on DNS queries sent and not yet answered for ``active`` domains at work.

    Waiting costs no slot, and so no query place either: a query to a slow or dead server
    holds its place until it is answered or times out (3 s), so a fixed bound below what the
    domains in progress wait on would let them set the pace again. Measured with
    ``bench/run.py --domains 10000 --realistic`` on one machine, one run after the other
    (2026-12-02 evening): with the former fixed 200 places 115.8 s (audit 92.2 s), with this
    bound (1,024 at the default --concurrency) 85.8 and 85.3 s (audit 63.5 s), against 71.8-74.0 s for the
    uniform world; every slow domain assessed in both. Debian's Unbound (1.17, built with
    libevent) keeps 1,024 queries per thread (``num-queries-per-thread``; 512 in builds
    without libevent), so the default ``--concurrency`` of 64 stays at its limit; lower
    --concurrency for a smaller resolver (README, "Speed").
    """
    return max(1, active) * WAITING_ALLOWANCE * QUERIES_PER_DOMAIN


def reset_slot(token: contextvars.Token[DomainSlot | None]) -> None:
    """Undo :meth:`DomainSlot.running` (the lane moves on to its next domain)."""
    _CURRENT.reset(token)


class _Wait:
    """One outstanding wait of a domain, in its pacer's FIFO."""

    __slots__ = ("due", "future", "slot", "slow")

    def __init__(self, future: asyncio.Future[Any], slot: DomainSlot, due: float) -> None:
        self.future, self.slot, self.due = future, slot, due
        self.slow = False


def _relay(waiter: asyncio.Future[T], lookup: asyncio.Future[T]) -> None:
    """Pass the lookup's outcome on to one waiter (unless the waiter was cancelled meanwhile)."""
    if waiter.done():
        return
    if lookup.cancelled():
        waiter.cancel()
        return
    error = lookup.exception()
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(lookup.result())


async def patiently(lookup: asyncio.Future[T]) -> T:
    """Wait for ``lookup``, a future others may wait on too; if it is slow, let the domain's
    active slot go meanwhile.

    A waiter that is cancelled (its check timed out) leaves ``lookup`` running for the others,
    as ``asyncio.shield`` would; a slow answer is waited for to its end, only without holding
    a slot.
    """
    if lookup.done():
        return lookup.result()
    loop = lookup.get_loop()
    waiter: asyncio.Future[T] = loop.create_future()
    lookup.add_done_callback(functools.partial(_relay, waiter))
    slot = _CURRENT.get()
    if slot is None:
        return await waiter
    wait = _Wait(waiter, slot, loop.time() + slot.pacer.patience)
    slot.pacer._watch(wait)
    try:
        return await waiter
    finally:
        if wait.slow:
            await slot._step_in()
