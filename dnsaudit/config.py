"""What one audit is to do, as plain values: ``AuditConfig`` and its parts.

The command line builds one from its arguments (``dnsaudit.cli.audit``); a library caller
builds one directly and hands it to ``dnsaudit.pipeline.run_audit``:

    from dnsaudit.config import AuditConfig, DnsConfig
    from dnsaudit.net.dns import parse_nameserver
    from dnsaudit.pipeline import run_audit

    outcome = run_audit(AuditConfig("domains.csv", dns=DnsConfig(nameservers=(parse_nameserver("9.9.9.9"),))))

Every part is frozen and picklable (tuples, paths, numbers), and nothing here reads a file
or asks the network: zone files, plugins and the input are read when the audit starts, so
a config can be built, compared and sent to another process freely. The defaults are the
command line's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a config is built before anything is imported that talks to the network
    from dnsaudit.net.dns import Nameserver
    from dnsaudit.policy import Expectation, Waiver

DEFAULT_TITLE = "Microsoft 365 mail readiness"
FAIL_ON = ("warn", "fail", "blocking", "never")  # how bad a result must be to fail the run (exit code 1)


@dataclass(frozen=True)
class DnsConfig:
    """Where the answers come from: resolvers, planned zone files, the offline snapshot."""

    nameservers: tuple[Nameserver, ...] = ()  # empty: the system's resolvers (none when offline)
    timeout: float = 3.0  # seconds per query and server
    retries: int = 1  # extra rounds over the servers after a timeout
    zone_files: tuple[Path, ...] = ()  # planned zones (files, or folders of them) answer before DNS
    offline: bool = False  # ask no server: names outside the zone files come from the shipped snapshot
    compare_live: bool = False  # with zone_files: also show what the plan changes against live DNS

    def __post_init__(self) -> None:
        _as_paths(self, "zone_files")


@dataclass(frozen=True)
class ProbeConfig:
    """The HTTPS, HTTP, TLS and SMTP connections the checks make."""

    enabled: bool = True  # False: no connections at all (checks that need them report skip)
    allow_private: bool = False  # connect to loopback/private/link-local addresses that DNS returns
    ca_file: str | None = None  # extra trusted CA certificates (PEM)
    https_port: int = 443
    http_port: int = 80
    smtp_port: int = 25
    timeout: float = 10.0  # connect/read timeout of each probe


@dataclass(frozen=True)
class CheckSelection:
    """Which checks run, and for how long at most."""

    include: tuple[str, ...] = ()  # id globs; empty: every check
    skip: tuple[str, ...] = ()  # id globs left out
    timeout: float = 60.0  # longest one check may take on one domain
    strict_plugins: bool = False  # a third-party check that cannot be loaded stops the run


@dataclass(frozen=True)
class ReportConfig:
    """Where the reports go and what they look like."""

    out_dir: Path | None = None  # must be new or empty; None: dnsaudit-runs/<date-time>
    formats: tuple[str, ...] = ()  # empty: every installed format
    split_by: str | None = None  # "client": also one set of reports per client under clients/
    title: str = DEFAULT_TITLE
    stats_file: Path | None = None  # run statistics as JSON (time per phase, DNS, memory)

    def __post_init__(self) -> None:
        _as_paths(self, "out_dir", "stats_file")


@dataclass(frozen=True)
class HistoryConfig:
    """The run history (SQLite) and drift against an earlier run."""

    enabled: bool = True  # store the run (and so allow compare and keep)
    path: Path | None = None  # None: ~/.local/share/dnsaudit/history.sqlite
    compare: str | None = None  # an earlier complete run: "last", "baseline" or a run id
    keep: int | None = None  # afterwards keep only the newest N runs (the baseline is kept)
    wait_lock: float = 0.0  # seconds to wait for another run's lock (then: not stored, or with compare: fail)

    def __post_init__(self) -> None:
        _as_paths(self, "path")


@dataclass(frozen=True)
class PolicyConfig:
    """What a team decided once (the policy file, ``dnsaudit.toml``; see dnsaudit.policy)."""

    waivers: tuple[Waiver, ...] = ()  # accepted problems, applied before scoring
    expectations: tuple[Expectation, ...] = ()  # per-client [[expect]] tables: input defaults, policy.expectations
    notify: tuple[str, ...] = ()  # alert URLs after a run that regressed or reached fail_on


@dataclass(frozen=True)
class AuditConfig:
    """One audit: the input list and how to audit and report it."""

    input_file: str | Path  # kept as given: the run and its messages name it so
    sheet: str | None = None  # worksheet of an .xlsx input; None: the first
    max_input_bytes: int = 100_000_000  # a larger input file is refused (a workbook may unpack to 8x)
    dns: DnsConfig = field(default_factory=DnsConfig)
    probes: ProbeConfig = field(default_factory=ProbeConfig)
    checks: CheckSelection = field(default_factory=CheckSelection)
    reports: ReportConfig = field(default_factory=ReportConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    concurrency: int = 64  # domains at work at the same time, over all workers
    workers: int | None = None  # processes; None: one per core for large lists (see workers.auto_workers)
    fail_on: str = "fail"  # recorded in the run; the CLI's exit code reads it

    def __post_init__(self) -> None:
        if self.fail_on not in FAIL_ON:
            raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {self.fail_on!r}")


def _as_paths(part: object, *names: str) -> None:
    """A caller may give a path as a string; the config holds Paths (a tuple of them for
    several), so that equal configs compare equal however they were written."""
    for name in names:
        value = getattr(part, name)
        if isinstance(value, tuple):
            object.__setattr__(part, name, tuple(Path(v) for v in value))
        elif value is not None:
            object.__setattr__(part, name, Path(value))
