"""Auditing on several CPU cores: the domains split over worker processes.

An audit behind a resolver is latency-bound only until the network waits overlap; with
enough domains in flight, the CPU that reads replies and runs the checks (a few ms per
domain) becomes the limit, and one Python process uses one core. ``--workers N`` starts N
processes, each auditing every N-th domain with its own DNS client and probes, and
sends each finished domain back to this process, which keeps the history, the progress
bar and the reports exactly as with one process.

The price: a question that many domains share (``spf.protection.outlook.com``, say) is
asked once per worker instead of once per run.

How workers start (``START_METHOD``): forked on Linux, spawned elsewhere. A spawned worker
is a new interpreter that imports dnsaudit and unpickles its job and shard before its first
question: in a 10,000-domain benchmark run the first worker began 0.26 s and the second
0.48 s after they were started (the second is started once the first has read its shard). A
forked one begins at once (10-20 ms), and shares the main process's pages instead of loading
its own. Only the forking thread is copied; libuv, whose thread pool uvloop starts in the
main process, starts its pool again in the child (tried: a forked worker's getaddrinfo
on a new uvloop loop answers; the pool is idle when the workers fork). What a forked worker
inherits and must not keep, it lets go of (``_leave_the_parent_alone``): the main process's ends
of the pipes, the signal wake-up of its running event loop, the history's lock file; the
rest it does not use, and its objects are frozen out of the collector's sight so that
collections do not copy the shared pages. macOS and Windows spawn: fork is unsafe with
macOS's system libraries and does not exist on Windows; the test suite runs the spawned
path too.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import multiprocessing
import os
import pickle
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dnsaudit.check import Check, Settings
from dnsaudit.config import ProbeConfig
from dnsaudit.model import DomainEntry, DomainResult, ErrorReason
from dnsaudit.net import loop as event_loop
from dnsaudit.net.dns import DnsClient, DnsStats, Nameserver
from dnsaudit.progress import peak_rss_mb
from dnsaudit.spool import PackedResults, Packer

if TYPE_CHECKING:
    from dnsaudit.zones import ZoneSet

# Below this many domains a second process costs more (its start: ~0.5 s spawned, and its own
# DNS cache either way) than it saves.
AUTO_MIN_DOMAINS = 500
AUTO_MAX_WORKERS = 4
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"  # see the module's docstring
_READ_ENDS: list[int] = []  # the main process's ends of the workers' pipes, as the next worker forks
# Seconds between looks for a Ctrl-C that Python swallowed (dnsaudit.sigint) while the main
# process waits for its workers' results: results come far more often than this in a run.
LOST_SIGINT_CHECK = 0.25


def auto_workers(domains: int) -> int:
    """The default for ``--workers``: one per CPU core this process may use (at most 4) for
    large lists, else 1."""
    if domains < AUTO_MIN_DOMAINS:
        return 1
    return max(1, min(AUTO_MAX_WORKERS, usable_cpus(), domains // AUTO_MIN_DOMAINS))


def usable_cpus() -> int:
    """CPU cores this process may run on (a container's or taskset's limit, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on macOS or Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ResolverSetup:
    """The DNS client each process builds: the run's servers (resolved, the system's ones
    included), planned zones and snapshot already read, and the limit of queries in flight."""

    nameservers: tuple[Nameserver, ...]
    timeout: float = 3.0
    retries: int = 1
    zones: ZoneSet | None = None
    snapshot: ZoneSet | None = None
    offline: bool = False
    max_in_flight: int = 1024  # queries outstanding; a run sets it from --concurrency (pacing.outstanding_queries)

    def client(self) -> DnsClient:
        return DnsClient(list(self.nameservers), timeout=self.timeout, retries=self.retries,
                         max_in_flight=self.max_in_flight, zones=self.zones, snapshot=self.snapshot,
                         offline=self.offline)

    def live_client(self) -> DnsClient:
        """The same servers without the planned zones (--compare-live), with a bound of its own."""
        return DnsClient(list(self.nameservers), timeout=self.timeout, retries=self.retries,
                         max_in_flight=self.max_in_flight)


@dataclass(frozen=True)
class AuditJob:
    """Everything needed to audit a list of domains, picklable so a worker can receive it.

    Each process builds its own clients from it: ``resolver`` the DNS client, ``probes``
    the web and TLS clients (None: no probes), ``live`` a second resolver without the
    planned zones.
    """

    check_classes: tuple[type[Check], ...]
    settings: Settings
    concurrency: int
    resolver: ResolverSetup
    probes: ProbeConfig | None = None
    live: bool = False

    async def run(self, entries: Sequence[DomainEntry], on_result: Callable[[DomainResult], None] | None = None,
                  keep: bool = True, tail=None) -> tuple[list[DomainResult], DnsStats]:
        """Audit ``entries`` in this process; results in input order (none with ``keep=False``),
        with the DNS statistics."""
        from dnsaudit.net.tls import TlsProber
        from dnsaudit.net.web import WebClient
        from dnsaudit.runner import audit_entries

        dns = self.resolver.client()
        web = tls = None
        if self.probes is not None:
            web = WebClient(dns, https_port=self.probes.https_port, http_port=self.probes.http_port,
                            timeout=self.probes.timeout, allow_private=self.probes.allow_private,
                            ca_file=self.probes.ca_file)
            tls = TlsProber(timeout=self.probes.timeout, ca_file=self.probes.ca_file)
        live = self.resolver.live_client() if self.live else None
        try:
            results = await audit_entries(entries, self.check_classes, dns, self.settings,
                                          concurrency=self.concurrency, on_result=on_result, web=web, tls=tls,
                                          live=live, keep=keep, tail=tail)
        finally:
            if web is not None:
                await web.aclose()
            await dns.aclose()
            if live is not None:
                await live.aclose()
        return results, dns.stats


@dataclass
class WorkerReport:
    """What the workers said besides their results."""

    stats: DnsStats = field(default_factory=DnsStats)
    peak_rss_mb: list[float] = field(default_factory=list)  # one per worker that finished
    cpu_seconds: list[float] = field(default_factory=list)  # one per worker that finished
    failures: list[str] = field(default_factory=list)  # one per worker that did not


def run_in_workers(job: AuditJob, entries: Sequence[DomainEntry], workers: int,
                   on_result: Callable[[str, bytes], None], history: bool = True, ahead=None,
                   ) -> tuple[PackedResults, WorkerReport]:
    """Audit ``entries`` in ``workers`` processes; results in input order, packed.

    ``on_result(domain, row)`` sees each result as it arrives, as the history stores it
    (``history_file.pack_result`` of its JSON form), made in the worker, off this process's
    CPU: this process only spools and stores bytes. Without ``history`` the row is empty
    and the workers do not make it.

    ``ahead`` (a ``dnsaudit.reports.ahead.Ahead``, or None): each worker also surveys its
    domains for the reports in the audit's tail (``ahead.plan.surveyor``, ``_TailSurvey``),
    and this process keeps what it found (``ahead.put``), to be used once that worker is
    done (``ahead.worker_done``). The core does not import the reports: it only passes the
    plan on and the findings back.

    A domain whose worker died before finishing it gets a could-not-test result for every
    check, so nothing is silently dropped.
    """
    context = multiprocessing.get_context(START_METHOD)
    job = _split_limits(job, workers)
    # Which workers are done auditing their shard (1 each, set by the worker, or here for one
    # that failed or died): one done before the others surveys its finished domains until all
    # are (``_TailSurvey.until``), its core not idle. Each writes its own byte: no lock.
    audited = context.Array("b", workers, lock=False) if ahead is not None else None
    shards = [list(range(first, len(entries), workers)) for first in range(workers)]
    processes, shard_of, process_of, number_of = [], {}, {}, {}
    results = PackedResults(len(entries))
    report = WorkerReport()
    # This blocks the caller's event loop, whose SIGINT handler would only act after the
    # workers finished: Ctrl-C must interrupt the wait itself, and the start of the workers
    # as well (a spawned one is a new interpreter: a second or more under load).
    from dnsaudit.sigint import held_sigint, plain_sigint, raise_if_lost

    with plain_sigint():
        try:
            raise_if_lost()
            if os.name == "posix":  # before held_sigint: it unblocks SIGINT once it has started
                from multiprocessing import resource_tracker

                resource_tracker.ensure_running()
            plan = None if ahead is None else ahead.plan
            for number, shard in enumerate(shards):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(job, [entries[i] for i in shard], send, history,
                                                                plan, number, audited),
                                          name="dnsaudit-worker", daemon=True)
                processes.append(process)
                # A forked worker closes these (its own pipe's and the earlier workers'): with a read
                # end of its own pipe open, a worker whose main process was killed would never see
                # the pipe break, and would wait forever once the pipe was full.
                _READ_ENDS[:] = [conn.fileno() for conn in (*shard_of, receive)]
                with held_sigint():
                    process.start()
                send.close()  # our copy; the worker holds the other, so EOF means the worker is gone
                shard_of[receive] = shard
                process_of[receive] = process
                number_of[receive] = number
            _receive(shard_of, process_of, results, report, on_result, ahead, number_of, audited)
        except BaseException:
            for process in processes:
                if process.pid is not None:
                    process.terminate()
            raise
        finally:
            for process in processes:
                if process.pid is None:
                    continue
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
                    process.join(timeout=5)
            for conn in shard_of:
                conn.close()
    for index, entry in enumerate(entries):
        if not results.filled(index):
            results.put(index, PackedResults.pack(_lost(entry, job)))
    return results, report


def _receive(shard_of, process_of, results: PackedResults, report: WorkerReport,
             on_result: Callable[[str, bytes], None], ahead=None, number_of=None, audited=None) -> None:
    """Read the workers' messages until every worker has closed its pipe; ``ahead`` (see
    ``run_in_workers``) hears what each worker (``number_of[conn]``) surveyed, and ``audited``
    is marked for a worker that failed or died (the others stop surveying on its account)."""
    from multiprocessing.connection import wait

    from dnsaudit.sigint import raise_if_lost

    dictionary_of: dict[object, int] = {}  # the spool's number of each worker's dictionary
    while shard_of:
        raise_if_lost()  # a Ctrl-C that Python swallowed meanwhile (dnsaudit.sigint)
        for conn in wait(list(shard_of), timeout=LOST_SIGINT_CHECK):
            shard = shard_of[conn]
            try:
                kind, payload = pickle.loads(conn.recv_bytes())
            except EOFError:
                del shard_of[conn]
                conn.close()
                if process_of.pop(conn) is not None:  # gone without saying "done" or "failed"
                    report.failures.append("a worker process stopped unexpectedly (see above for why, if "
                                           "it said)")
                    if audited is not None:
                        audited[number_of[conn]] = 1
                continue
            if kind == "result":
                position, domain, packed, with_dictionary, row = payload
                results.put(shard[position], packed, dictionary_of[conn] if with_dictionary else 0, row)
                on_result(domain, row)
            elif kind == "surveyed":  # after the domain's result
                position, found = payload
                if ahead is not None:
                    ahead.put(shard[position], number_of[conn], found)
            elif kind == "dictionary":  # before the first result that uses it
                dictionary_of[conn] = results.add_dictionary(payload)
            elif kind == "done":
                process_of[conn] = None
                stats, peak, cpu = payload
                if ahead is not None:
                    ahead.worker_done(number_of[conn])
                report.stats.merge(stats)
                report.peak_rss_mb.append(peak)
                report.cpu_seconds.append(cpu)
            else:
                process_of[conn] = None
                report.failures.append(payload)
                if audited is not None:
                    audited[number_of[conn]] = 1


def _split_limits(job: AuditJob, workers: int) -> AuditJob:
    """``--concurrency`` bounds the whole run: each worker gets its share."""
    import dataclasses

    from dnsaudit.pacing import outstanding_queries

    share = max(1, -(-job.concurrency // workers))
    # The share of the query bound, and never less than the worker's domains in progress
    # wait on (a share of one domain, rounded up, still has all of one domain's queries).
    queries = max(-(-job.resolver.max_in_flight // workers), outstanding_queries(share))
    resolver = dataclasses.replace(job.resolver, max_in_flight=queries)
    return dataclasses.replace(job, concurrency=share, resolver=resolver)


def _worker(job: AuditJob, entries: list[DomainEntry], conn, history: bool = True, ahead=None,
            number: int = 0, audited=None) -> None:
    """A worker process (the ``number``-th): audit the shard, send each result as it finishes
    (surveyed for the reports with an ``ahead`` plan: ``dnsaudit.reports.ahead``; after the
    shard too, until every worker has ``audited``: a byte each, shared), then the statistics."""
    from dnsaudit.gctune import Freezer, tune_for_audit
    from dnsaudit.sigint import deaf_to_sigint

    deaf_to_sigint()
    _leave_the_parent_alone()
    tune_for_audit()  # this process is ours: its entry point tunes the collector
    freeze = Freezer()
    positions = {id(entry): index for index, entry in enumerate(entries)}
    packer = Packer()
    tail = None

    def send(result: DomainResult) -> None:
        freeze()
        for message in result_messages(packer, positions[id(result.entry)], result, history,
                                       None if tail is None else tail.keep):
            conn.send_bytes(message)

    try:
        tail = None if ahead is None else _TailSurvey(ahead.surveyor(number), packer, conn)
        _nothing, stats = event_loop.run(job.run(entries, send, keep=False, tail=tail))
        if tail is not None:
            if audited is not None:
                audited[number] = 1
                tail.until(lambda: all(audited))
            tail.close()  # its pieces complete before "done": the main process reads them once we are gone
        done = (stats, peak_rss_mb(), time.process_time())
        conn.send_bytes(pickle.dumps(("done", done), pickle.HIGHEST_PROTOCOL))
    except KeyboardInterrupt:  # deaf to SIGINT (above), but a worker run another way may not be
        pass  # the main process was interrupted too and says so
    except BaseException:  # noqa: BLE001 - any failure goes back to the main process, with its trace
        conn.send_bytes(pickle.dumps(("failed", traceback.format_exc()), pickle.HIGHEST_PROTOCOL))
    finally:
        conn.close()


def _leave_the_parent_alone() -> None:
    """In a forked worker: what it inherited and must not keep or act on.

    - The main process's ends of the workers' pipes (``_READ_ENDS``), its own included: while
      one is open here, this worker's writes never fail, so a worker whose main process was
      killed audited on until the pipe was full and then waited forever (a test kills one).
    - The signal wake-up descriptor of the main process's event loop, running when it forked
      (the pipeline waits for its workers inside it): a signal caught here must not wake that
      loop. (asyncio keeps the running loop with its process id, so the worker's own loop
      starts all the same; Python 3.12 also resets both itself.)
    - What else it inherited stays as it is and is not used: the history's database (the lock
      file is closed in every forked child: ``history_file._let_go_in_a_forked_child``), the
      spool's temporary file, the parent loop's descriptors. Objects leave the collector's
      sight (``gctune.freeze_forked_child``), so that collections do not copy shared pages.

    In a spawned worker nothing of this is there to change (no pipe ends, no wake-up; only the
    imported modules frozen)."""
    import signal

    from dnsaudit.gctune import freeze_forked_child

    for fd in _READ_ENDS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _READ_ENDS.clear()
    signal.set_wakeup_fd(-1)
    freeze_forked_child()


def result_messages(packer: Packer, position: int, result: DomainResult, history: bool = True,
                    kept: Callable[[int, bytes, bool, bytes], None] | None = None) -> list[bytes]:
    """What a worker sends for one finished domain (``position`` in its shard): its spool
    bytes and its history row, both final, so the main process stores them as they are;
    once, the packer's new dictionary first. ``kept(position, packed, with_dictionary, row)``
    keeps them in the worker too (``_TailSurvey``)."""
    row = history_row(result) if history else b""
    packed, with_dictionary, made = packer.pack(result)
    if kept is not None:
        kept(position, packed, with_dictionary, row)
    messages = [("dictionary", made)] if made else []
    messages.append(("result", (position, result.entry.domain, packed, with_dictionary, row)))
    return [pickle.dumps(message, pickle.HIGHEST_PROTOCOL) for message in messages]


class _TailSurvey:
    """A worker's survey of its domains for the reports (``dnsaudit.reports.ahead``), done in
    the audit's tail (``runner.audit_entries``): once the worker has no domain left to start,
    those still in progress mostly wait (a slow one for seconds, a dead one for its whole
    timeout), and the CPU they leave free surveys the domains finished so far, then each
    one as it finishes, until the last has finished. What is left then is surveyed after
    the audit, in forked processes (``reports.scope.survey``). Until surveyed, a finished
    domain waits here as the spool's bytes (~1 KB).

    Why not as each domain finishes, nor all of them here: surveyed as each finished,
    competing with the audit (and the resolver) for the CPU, the survey cost a 30-s uniform
    run 1.5 s more than the pass after the audit; all of them here, after the last domain,
    0.6-1.4 s more (bench/README.md, the twelfth round). In the tail it costs the uniform run
    nothing (its tail is short) and a run with slow and dead domains seconds less."""

    IDLE_LOOK = 0.01  # seconds between looks for newly finished domains, once all so far are surveyed

    def __init__(self, surveyor, packer: Packer, conn) -> None:
        self._surveyor, self._packer, self._conn = surveyor, packer, conn
        self._backlog: collections.deque[tuple[int, bytes, bool, bytes]] = collections.deque()

    def keep(self, position: int, packed: bytes, with_dictionary: bool, row: bytes) -> None:
        self._backlog.append((position, packed, with_dictionary, row))

    async def __call__(self, audited: asyncio.Event) -> None:
        backlog = self._backlog
        while True:
            while backlog and not audited.is_set():
                self._survey(*backlog.popleft())
                await asyncio.sleep(0)  # the domains still in progress read their answers in between
            if audited.is_set():
                return
            await asyncio.sleep(self.IDLE_LOOK)

    def until(self, stop: Callable[[], bool]) -> None:
        """After the worker's own shard: survey what is left of it until ``stop()`` (every
        worker has audited its shard, or failed), so that a worker done before the others keeps
        its core busy with work the pass after the audit would do otherwise. Why: in one
        uniform benchmark run the audit's last 4 s ran at 50-70 % of the two cores, one worker
        done and the other at work (bench/README.md, the fourteenth round). The last worker to
        finish stops at once: the pass after the audit surveys the rest, in as many processes
        as there are cores.

        At the same priority as the rest: surveyed at nice 19 or 10 instead (20a37b1, 1bc57d7),
        the audit phase was no shorter in pairs with the code before (+0.4 and +0.7 s on
        average, within the machine's swings), and a worker at a low priority still has to
        flush its pieces and exit before the run goes on, which another program's busy loop
        would draw out (at nice 19 it leaves 1.5 % of a core)."""
        backlog = self._backlog
        while backlog and not stop():
            self._survey(*backlog.popleft())

    def _survey(self, position: int, packed: bytes, with_dictionary: bool, row: bytes) -> None:
        found = _surveyed(self._surveyor, self._packer.unpack(packed, with_dictionary), row)
        if found is not None:  # else the main process surveys it after the audit
            self._conn.send_bytes(pickle.dumps(("surveyed", (position, found)), pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        self._surveyor.close()


def _surveyed(surveyor, result: DomainResult, row: bytes):
    """``surveyor.add(result, row)``, or None when it failed (a third-party writer's
    ``render_domain``, say): the domain is audited all the same, and surveyed again after the
    audit, where its writer renders it itself and a failure is reported as the report's."""
    try:
        return surveyor.add(result, row)
    except Exception:  # noqa: BLE001 - the audit goes on; the report phase meets it again
        return None


def history_row(result: DomainResult) -> bytes:
    """One domain as the history stores it (``History.add_row``): ``json.dumps(result.to_dict())``
    packed. The results hold no cycles (they are pickled too), so the encoder does not look
    for any: the same text, 11 % less CPU (55.6 against 62.5 us a domain)."""
    from dnsaudit.history_file import pack_result

    return pack_result(_JSON.encode(result.to_dict()))


_JSON = json.JSONEncoder(check_circular=False)  # json.dumps's defaults otherwise


def _lost(entry: DomainEntry, job: AuditJob) -> DomainResult:
    from dnsaudit.scoring import score

    message = "Could not test: the worker process auditing this domain stopped before it finished."
    findings = tuple(cls().error(message, ErrorReason.CHECK_BUG) for cls in job.check_classes)
    return DomainResult(entry, findings, score(findings), 0)
