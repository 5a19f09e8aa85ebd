"""dnsaudit.gctune: a freeze never keeps cyclic garbage for good."""

from __future__ import annotations

import gc
import weakref

from dnsaudit.gctune import FREEZE_EVERY, Freezer


class _Node:
    pass


def test_the_cycles_made_since_the_last_freeze_are_collected_before_the_next():
    """A failed TLS handshake leaves such a cycle; frozen, it would live until the process ends."""
    was_enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.disable()  # no collection of its own in between: only the freezer's
    try:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        freeze = Freezer()
        for _ in range(FREEZE_EVERY - 1):
            freeze()
        assert gone() is not None  # not yet: only every FREEZE_EVERY domains
        kept = _Node()  # alive at the freeze: frozen, not collected
        freeze()
        assert gone() is None
        assert gc.get_freeze_count() > 0 and kept is not None
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        if was_enabled:
            gc.enable()
