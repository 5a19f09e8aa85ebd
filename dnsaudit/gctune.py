"""Garbage-collector tuning for dnsaudit's own processes, and only for them.

The collector's settings are process-wide state that belongs to whoever owns the process,
so library functions (the runner, the pipeline, the report writers) never touch them; the
entry points of the processes dnsaudit starts do: the command line (``dnsaudit audit``),
each worker process, and each forked report writer.

A run keeps up to 50,000 DNS answers (and, in one process, every result), and each full
garbage collection walked all of them again: at 4,000 domains that was a fifth of the CPU.
Moving what exists out of the collector's sight every so many domains keeps collections to
recent objects. Objects without reference cycles are still freed as soon as they are
unused; cyclic garbage (a failed TLS handshake through asyncio leaves a cycle of some 30
objects and OpenSSL's buffers, CPython 3.11) is collected just before each freeze, so none
is frozen for good.
"""

from __future__ import annotations

import gc

FREEZE_EVERY = 500  # finished domains between two freezes
# The first count is the objects of GC types allocated less those freed (untracked and frozen
# ones too); a collection or gc.freeze() sets it to 0, and a free that would take it below 0 is
# lost. So a low threshold mistakes an in-flight working set that shrinks and grows again for
# growth. At 700 (the default) young collections ran thousands of times per second. At 20,000
# (until the ninth round) a worker of a 3,000-domain bench run made ~90 of them: 0.45-0.5 s of
# its ~7 s of CPU in the uniform world, 0.2-0.25 s in the realistic one, freeing nothing after
# start-up (gc.callbacks). The count at each freeze, 500 domains' real growth, was 57,000-65,000,
# with peaks just under 100,000 sampled in between (a wave of domains in flight): at 100,000 a
# few young collections still come, and the full collection before each freeze (Freezer) takes
# the cycles of those 500 domains. In all, a worker's collections now take 0.22-0.27 s in either
# world. Measured on CPython 3.11; bench/README.md, ninth round.
THRESHOLDS = (100_000, 20, 20)


def tune_for_audit() -> None:
    """Collect less often: an audit allocates many small objects that live for the whole run."""
    gc.set_threshold(*THRESHOLDS)


class Freezer:
    """Call once per finished domain: every ``FREEZE_EVERY`` calls, the cyclic garbage made
    since the last freeze is collected (a full collection walks only what is not frozen: the
    last ``FREEZE_EVERY`` domains' objects), then what exists leaves the collector's sight
    (``gc.freeze``)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self.count % FREEZE_EVERY == 0:
            gc.collect()
            gc.freeze()


def freeze_forked_child() -> None:
    """First thing in a forked child that only reads what it inherited (a report writer): with
    everything frozen, the child's collections never touch, and so never copy, the pages it
    shares with its parent. Freezing is a constant-time splice of the collector's lists."""
    gc.freeze()
