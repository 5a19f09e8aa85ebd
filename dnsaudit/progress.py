"""Feedback during a run: a progress bar for people, phase timings for the benchmark."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

from dnsaudit.net.loop import name as event_loop_name

if TYPE_CHECKING:
    from dnsaudit.model import AuditRun
    from dnsaudit.net.dns import DnsClient


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (0 where the system does not say: Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident memory now (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def private_mb() -> float:
    """Memory this process holds on its own, not shared with its parent (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            lines = rollup.read().splitlines()
    except OSError:
        return 0.0
    kb = sum(int(line.split()[1]) for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:")))
    return kb / 1024


class PhaseClock:
    """Wall time per phase of a run, for --stats (the benchmark reads it)."""

    def __init__(self) -> None:
        self.start = self.mark = time.monotonic()
        self.phases: dict[str, float] = {}
        self.peaks: dict[str, float] = {}  # peak memory so far, after each phase: which one raised it
        self.current: dict[str, float] = {}  # resident memory at the end of each phase
        self.worker_peaks: list[float] = []  # peak memory of each worker process (--workers)
        self.worker_cpu: list[float] = []  # CPU seconds of each worker process
        self.report_private: list[float] = []  # memory of its own of each forked report writer

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.add(name, now - self.mark)
        self.mark = now
        self.peaks[name] = round(peak_rss_mb(), 1)
        self.current[name] = round(current_rss_mb() or self.peaks[name], 1)

    def add(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    def stats(self, run: AuditRun, dns: DnsClient) -> dict[str, Any]:
        phases = dict(self.phases)
        phases["audit"] = phases.get("audit", 0.0) - phases.get("history", 0.0)  # history writes happen inside
        total = time.monotonic() - self.start
        peak = peak_rss_mb()
        return {
            "domains": len(run.domains),
            "seconds": round(total, 3),
            "phases": {k: round(v, 3) for k, v in phases.items()},
            "dns": {"questions": dns.stats.questions, "queries_sent": dns.stats.queries_sent,
                    "cache_hits": dns.stats.cache_hits, "zone_answers": dns.stats.zone_answers,
                    "evicted": dns.stats.evicted,
                    "outcomes": dns.stats.by_outcome},
            # The most the run's processes held at once, bounded from above: this process alone
            # at its peak; or, while the workers ran, its peak until then plus each worker's own
            # peak; or, while the forked report writers ran (this process waiting, unchanged),
            # its size then plus the memory each writer held of its own.
            "peak_rss_mb": round(max(peak, self.peaks.get("audit", 0.0) + sum(self.worker_peaks),
                                     self.current.get("reports", 0.0) + sum(self.report_private)), 1),
            "peak_rss_mb_main": round(peak, 1),
            "peak_rss_mb_workers": [round(p, 1) for p in self.worker_peaks],
            "private_mb_report_writers": [round(p, 1) for p in self.report_private],
            "peak_rss_mb_after": self.peaks,
            "cpu_seconds_main": round(time.process_time(), 2),
            "cpu_seconds_workers": [round(c, 2) for c in self.worker_cpu],
            "event_loop": event_loop_name(),
        }


BAR = 30  # characters of the bar at most


class Progress:
    """A one-line progress bar on a terminal: done, rate, time left. Silent otherwise."""

    def __init__(self, total: int, enabled: bool, width: int | None = None) -> None:
        self.total, self.enabled = total, enabled
        self.width = width or 80  # the terminal's columns: the bar shrinks (or goes) so the line never wraps
        self.count = 0
        self.start = self.shown = time.monotonic()
        self.drawn = False  # the cursor is at the end of the bar

    def step(self) -> None:
        self.count += 1
        now = time.monotonic()
        if self.enabled and (now - self.shown > 0.2 or self.count == self.total):
            self.shown = now
            rate = self.count / max(now - self.start, 1e-6)
            left = (self.total - self.count) / rate if rate else 0
            text = f"{self.count}/{self.total} domains  {rate:6.1f}/s  {int(left) // 60}:{int(left) % 60:02d} left"
            width = min(BAR, self.width - len(text) - 4)  # "[", "] " and a column free: no wrap, no scroll
            if width >= 5:
                filled = int(width * self.count / max(self.total, 1))
                text = f"[{'#' * filled}{'-' * (width - filled)}] {text}"
            # Drawn before it is: Ctrl-C raises as the write returns, before a line after it
            # would run, and the message must still start on a line of its own.
            self.drawn = True
            print(f"\r{text[:self.width - 1]}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)
            self.drawn = False

    def break_line(self) -> None:
        """End the bar's line if it is drawn (before a message, on Ctrl-C); the next step draws it again."""
        if self.drawn:
            print(file=sys.stderr, flush=True)
            self.drawn = False
