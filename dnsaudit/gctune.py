"""Garbage-collector tuning for dnsaudit's own processes, and only for them.

The collector's settings are process-wide state that belongs to whoever owns the process,
so library functions (the runner, the pipeline, the report writers) never touch them; the
entry points of the processes dnsaudit starts do: the command line (``dnsaudit audit``),
each worker process, and each forked report writer.

A run keeps up to 50,000 DNS answers (and, in one process, every result), and each full
garbage collection walked all of them again: at 4,000 domains that was a fifth of the CPU.
Moving what exists out of the collector's sight every so many domains keeps collections to
recent objects. Objects without reference cycles are still freed as soon as they are
unused; the rare cyclic garbage older than that lives until the process ends.
"""

from __future__ import annotations

import gc

FREEZE_EVERY = 500  # finished domains between two freezes
# A young collection comes when the count of tracked objects made, less those freed, reaches
# the first threshold; the count restarts at 0 after each collection and never goes below it,
# so objects freed after a collection that had seen them made do not count down: the more
# often it collects, the more churn it mistakes for growth. At 700 (the default) young
# collections ran thousands of times per second. At 20,000 (until the ninth round) a worker of
# a 3,000-domain bench run still made ~90 of them, 0.45-0.5 s of its ~7 s of CPU, and after
# start-up they freed nothing (gc.callbacks: the same 337 objects, all at start, in the uniform
# and the realistic world). The count at each freeze, that is the real growth of 500 domains,
# was 57,000-65,000: at 100,000 the audit makes no young collection at all between freezes
# (0.05 s a worker), peak memory unchanged (77 MB a worker), and a run whose domains really
# grow faster still gets its collections. bench/README.md, ninth round.
THRESHOLDS = (100_000, 20, 20)


def tune_for_audit() -> None:
    """Collect less often: an audit allocates many small objects that live for the whole run."""
    gc.set_threshold(*THRESHOLDS)


class Freezer:
    """Call once per finished domain: every ``FREEZE_EVERY`` calls, what exists so far leaves
    the collector's sight (``gc.freeze``)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self.count % FREEZE_EVERY == 0:
            gc.freeze()


def freeze_forked_child() -> None:
    """First thing in a forked child that only reads what it inherited (a report writer): with
    everything frozen, the child's collections never touch, and so never copy, the pages it
    shares with its parent. Freezing is a constant-time splice of the collector's lists."""
    gc.freeze()
