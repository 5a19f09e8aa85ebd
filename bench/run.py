#!/usr/bin/env python3
"""Benchmark dnsaudit end to end behind a real recursive resolver with a delay per upstream answer.

    python bench/run.py --domains 1000 --delay-ms 20
    python bench/run.py --domains 10000 --delay-ms 20 --compare 100

What it builds, all on loopback and torn down afterwards:

    dnsaudit --> Unbound (recursive, caching) --> NSD (authoritative), +N ms per answer by
                 netem in a private network namespace (``--delay-by netem``, bench/netem.py), or
    dnsaudit --> Unbound --> delay proxy (+N ms per answer, bench/delay_proxy.py) --> NSD

``--delay-by auto`` (the default) takes netem where the kernel has it and the harness is
root, else the proxy, and prints which (and why). NSD serves N synthetic domains shaped like
an MSP's list (mostly Microsoft 365, some broken, multi-provider SPF, some relay IPs), the
Microsoft records from dnsaudit's offline snapshot and stand-ins for common SPF providers.
Unbound stubs every zone, and the root, to NSD (or the proxy), so nothing leaves the
machine. The harness installs Debian's unbound and nsd when they are missing (it needs root
for that, and for --compare, which runs checkdmarc's CLI against Unbound on port 53).

It prints domains per second, DNS queries per second, peak resident memory of all of
dnsaudit's processes, CPU per process and of the resolver side, and the share of time per
phase (from ``dnsaudit audit --stats``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from delay_proxy import DelayProxy, compile_udp
from netem import KernelDelay
from netem import Unavailable as NetemUnavailable

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = {  # include -> zone (origin, text)
    "_spf.google.com": ("google.com", '_spf TXT "v=spf1 include:_netblocks.google.com ~all"\n'
                        '_netblocks TXT "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all"'),
    "sendgrid.net": ("sendgrid.net", '@ TXT "v=spf1 ip4:167.89.0.0/17 ip4:149.72.0.0/16 ~all"'),
    "mailgun.org": ("mailgun.org", '@ TXT "v=spf1 include:_spf.mailgun.org ~all"\n'
                    '_spf TXT "v=spf1 ip4:209.61.151.0/24 ip4:166.78.68.0/22 ~all"'),
    "servers.mcsv.net": ("mcsv.net", 'servers TXT "v=spf1 ip4:205.201.128.0/20 ip4:198.2.128.0/18 ?all"'),
    "amazonses.com": ("amazonses.com", '@ TXT "v=spf1 ip4:199.255.192.0/22 ip4:54.240.0.0/18 ~all"'),
}
SOA = "@ SOA ns1.bench.test. hostmaster.bench.test. 1 3600 600 86400 3600\n@ NS ns1.bench.test.\n"


def free_port() -> int:
    """A loopback port free for both UDP and TCP right now (each server here binds both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no loopback port is free for both UDP and TCP")


# The realistic world (--realistic): extra latency per domain on top of --delay-ms, each class
# behind its own name-server address (a resolver learns round-trip times per address), and a
# share of lame delegations to addresses where nothing answers. Shares as measured on MSP lists
# in the throughput issue: 25 % +60 ms, 10 % +200 ms, 3 % +900 ms, 3 % dead.
# The addresses are in a loopback block of this run's own (127.N.x.y, N random), because they
# listen on port 53: two runs at once (two test suites on one machine) must not collide.
NET = f"127.{random.SystemRandom().randrange(64, 250)}"
LATENCY_CLASSES = (("+60ms", 0.25, 60, f"{NET}.0.12"), ("+200ms", 0.10, 200, f"{NET}.0.13"),
                   ("+900ms", 0.03, 900, f"{NET}.0.14"))
DEAD_SHARE = 0.03
DEAD_ADDRESSES = [f"{NET}.2.{n}" for n in range(1, 65)]  # one lame server per few dead domains, as on the internet
BASE_CLASS, DEAD_CLASS = "base", "dead"
CLASS_ORDER = (DEAD_CLASS, *(name for name, *_ in LATENCY_CLASSES), BASE_CLASS)
BASE_ADDRESS = f"{NET}.0.11"  # child zones of the base class: --delay-ms and nothing more


def domain_records(i: int, label: str, fqdn: str, rng: random.Random) -> tuple[list[tuple[str, str]], str, str]:
    """One synthetic customer domain: its records as (owner relative to the domain, rest), its
    phase and its relay IP. The shares are an MSP's list: 80 % Microsoft 365 by the book, 10 %
    hybrid on premises, 5 % without MX, the rest odd."""
    dashes = fqdn.replace(".", "-")
    records: list[tuple[str, str]] = []
    roll = rng.random()
    phase = "cloud"
    if roll < 0.80:  # by the book, or nearly
        records.append(("@", f"MX 0 {dashes}.mail.protection.outlook.com."))
        records.append(("autodiscover", "CNAME autodiscover.outlook.com."))
        for sel in ("selector1", "selector2"):
            if rng.random() < 0.7:
                records.append((f"{sel}._domainkey", f"CNAME {sel}-{dashes}._domainkey.t{i % 300}.onmicrosoft.com."))
    elif roll < 0.90:  # hybrid, on premises (TEST-NET addresses: never probed)
        phase = "hybrid"
        records.append(("@", f"MX 10 mail.{fqdn}."))
        records.append(("mail", f"A 203.0.113.{i % 250 + 1}"))
        records.append(("autodiscover", f"CNAME mail.{fqdn}."))
    elif roll < 0.95:  # broken: no MX, a legacy A
        records.append(("@", f"A 198.51.100.{i % 250 + 1}"))
    # else: a domain with no records at all but SPF below (or nothing)
    includes = rng.sample(sorted(PROVIDERS), rng.randint(0, 4))
    spf = " ".join([f"ip4:192.0.2.{i % 250 + 1}", "include:spf.protection.outlook.com",
                    *(f"include:{p}" for p in includes), "-all"])
    if rng.random() < 0.97:
        records.append(("@", f'TXT "v=spf1 {spf}"'))
    if rng.random() < 0.6:
        records.append(("_dmarc", f'TXT "v=DMARC1; p={rng.choice(["none", "quarantine", "reject"])}; '
                                  f'rua=mailto:dmarc@{fqdn}"'))
    relay = f"192.0.2.{i % 250 + 1}" if rng.random() < 0.2 else ""
    return records, phase, relay


def latency_class(rng: random.Random) -> str:
    roll = rng.random()
    if roll < DEAD_SHARE:
        return DEAD_CLASS
    roll -= DEAD_SHARE
    for name, share, _extra, _address in LATENCY_CLASSES:
        if roll < share:
            return name
        roll -= share
    return BASE_CLASS


def generate(count: int, folder: Path, seed: int = 7, realistic: bool = False) -> tuple[Path, dict[str, str]]:
    """Zone files and an input CSV of ``count`` synthetic customer domains, and each domain's
    latency class. Uniform: every domain in one zone. Realistic: every domain its own zone,
    delegated from bench.test to the name server of its latency class (or to a dead one)."""
    rng, class_rng = random.Random(seed), random.Random(seed + 1)
    parent = [SOA, "ns1 A 127.0.0.1"]
    if realistic:
        parent += [f"ns{name.strip('+ms')} A {address}" for name, _s, _e, address in LATENCY_CLASSES]
        parent += [f"nsbase A {BASE_ADDRESS}"]
        parent += [f"nsdead{n} A {address}" for n, address in enumerate(DEAD_ADDRESSES)]
    zones = folder / "zones"
    zones.mkdir()
    rows = ["domain,client,phase,relay_ips,tenant"]
    classes: dict[str, str] = {}
    for i in range(count):
        label, fqdn = f"c{i:05d}", f"c{i:05d}.bench.test"
        records, phase, relay = domain_records(i, label, fqdn, rng)
        rows.append(f"{fqdn},Client {i % 60},{phase},{relay},t{i % 300}.onmicrosoft.com")
        if not realistic:
            parent += [f"{label if owner == '@' else owner + '.' + label} {rest}" for owner, rest in records]
            continue
        # The first domains take one class each, so that even a short smoke run has them all.
        kind = classes[fqdn] = CLASS_ORDER[i] if i < len(CLASS_ORDER) else latency_class(class_rng)
        if kind == DEAD_CLASS:
            parent.append(f"{label} NS nsdead{i % len(DEAD_ADDRESSES)}.bench.test.")
            continue  # nobody serves it
        server = "nsbase" if kind == BASE_CLASS else "ns" + kind.strip("+ms")
        parent.append(f"{label} NS {server}.bench.test.")
        soa = f"@ SOA {server}.bench.test. hostmaster.bench.test. 1 3600 600 86400 3600\n@ NS {server}.bench.test.\n"
        (zones / f"{fqdn}.zone").write_text(soa + "".join(f"{owner} {rest}\n" for owner, rest in records))
    (zones / "bench.test.zone").write_text("\n".join(parent) + "\n")
    for _include, (origin, text) in PROVIDERS.items():
        (zones / f"{origin}.zone").write_text(SOA.replace("bench.test", origin) + text + "\n")
    for snap in (ROOT / "dnsaudit" / "snapshot").glob("*.zone"):
        shutil.copy(snap, zones / snap.name)
    csv = folder / "domains.csv"
    csv.write_text("\n".join(rows) + "\n")
    return csv, classes


def ensure_packages() -> None:
    missing = [p for p, binary in (("nsd", "nsd"), ("unbound", "unbound")) if not shutil.which(binary)
               and not Path(f"/usr/sbin/{binary}").exists()]
    if missing:
        print(f"installing {' '.join(missing)} from Debian ...", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)


def start_nsd(folder: Path, listen: list[tuple[str, int]], zones: list[Path], name: str = "nsd") -> subprocess.Popen:
    """NSD on each (address, port) of ``listen`` serving ``zones`` (files in folder/zones); ``name``
    keeps two instances' files apart."""
    conf = folder / f"{name}.conf"
    conf.write_text("\n".join([
        "server:", *(f"  ip-address: {address}@{port}" for address, port in listen),
        f"  zonesdir: \"{folder / 'zones'}\"", "  username: \"\"",
        "  database: \"\"", f"  zonelistfile: \"{folder}/{name}.zone.list\"",
        f"  xfrdfile: \"{folder}/{name}.xfrd.state\"",
        f"  pidfile: \"{folder}/{name}.pid\"", "  server-count: 1", "  verbosity: 0", "  hide-version: yes",
        "  rrl-ratelimit: 0", "  rrl-whitelist-ratelimit: 0",  # NSD rate-limits one client to 200 qps by default
        "remote-control:", "  control-enable: no",
        *(line for z in zones for line in ("zone:", f"  name: \"{z.name.removesuffix('.zone')}\"",
                                          f"  zonefile: \"{z.name}\"")),
    ]) + "\n")
    return subprocess.Popen([shutil.which("nsd") or "/usr/sbin/nsd", "-d", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=open(folder / f"{name}.log", "w"))


def is_customer_zone(path: Path) -> bool:
    """A per-domain zone of the realistic world (served by the delegated servers, not stubbed)."""
    name = path.name.removesuffix(".zone")
    return name.endswith(".bench.test")


QUERIES_PER_THREAD = 2048  # Unbound's request list (its default 1024; the eleventh round measured both)


def start_unbound(folder: Path, port: int, upstream: int, threads: int) -> subprocess.Popen:
    zones = [z.name.removesuffix(".zone") for z in sorted((folder / "zones").glob("*.zone")) if not is_customer_zone(z)]
    stubs = [line for z in [*zones, "."] for line in (
        "stub-zone:", f"  name: \"{z}\"", f"  stub-addr: 127.0.0.1@{upstream}", "  stub-no-cache: no")]
    conf = folder / "unbound.conf"
    conf.write_text("\n".join([
        "server:", f"  interface: 127.0.0.1@{port}", "  access-control: 127.0.0.0/8 allow",
        "  do-not-query-localhost: no", "  module-config: \"iterator\"", "  qname-minimisation: no",
        "  username: \"\"", "  chroot: \"\"", f"  directory: \"{folder}\"", f"  pidfile: \"{folder}/unbound.pid\"",
        f"  num-threads: {threads}", "  msg-cache-size: 256m", "  rrset-cache-size: 512m", "  outgoing-range: 4096",
        f"  num-queries-per-thread: {QUERIES_PER_THREAD}", "  so-reuseport: yes", "  verbosity: 0", "  use-syslog: no",
        f"  logfile: \"{folder}/unbound.log\"", "  harden-referral-path: no", "  target-fetch-policy: \"0 0 0 0 0\"",
        "  unwanted-reply-threshold: 0", "  infra-host-ttl: 3600",
        # No connect(2) on each upstream query's new socket: one system call less per question
        # sent to NSD (Unbound's CPU at 10,000 domains 8.2-8.5 -> 7.4-8.3 s, within the machine's
        # spread; bench/README.md, the eleventh round). Same answers: NSD replies from the address asked.
        "  udp-connect: no",
        "  local-zone: \"test.\" nodefault",  # RFC 6761 names are NXDOMAIN by default in Unbound
        # unbound-control over a Unix socket of the run's folder (no certificates), for
        # unbound_requestlist() after the audit.
        "remote-control:", "  control-enable: yes", f"  control-interface: \"{folder}/unbound.ctl\"",
        "  control-use-cert: no",
        *stubs,
    ]) + "\n")
    return subprocess.Popen([shutil.which("unbound") or "/usr/sbin/unbound", "-d", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=open(folder / "unbound.err", "w"))


REQUESTLIST = ("max", "overwritten", "exceeded")


def unbound_requestlist(folder: Path) -> str:
    """Unbound's request list during the run (``unbound-control stats_noreset``): the most
    queries it held at once against ``num-queries-per-thread``, how many it dropped to make
    room for newer ones ("overwritten": the jostle of a full list, which drops a query that
    has waited longer than ``jostle-timeout``, a slow server's among them) and how many new
    ones it dropped ("exceeded": as the list was full, and since Unbound 1.20, which Debian 12's
    build follows, also replies to queries older than ``discard-timeout`` and queries beyond
    ``wait-limit`` from one address). A working domain that comes out
    "could not assess" while either is above 0 lost its query at the resolver, not in dnsaudit."""
    control = shutil.which("unbound-control") or "/usr/sbin/unbound-control"
    try:
        done = subprocess.run([control, "-c", str(folder / "unbound.conf"), "stats_noreset"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not read ({exc})"
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    found = {k: values.get(f"total.requestlist.{k}") for k in REQUESTLIST}
    if done.returncode != 0 or None in found.values():
        return f"not read (unbound-control exit {done.returncode}: {(done.stderr or done.stdout).strip()[:200]})"
    return (f"at most {float(found['max']):.0f} queries at once (of {QUERIES_PER_THREAD} a thread), "
            f"{found['overwritten']} dropped for newer ones, {found['exceeded']} dropped in all")


def machine_ticks() -> tuple[int, int]:
    """(all, stolen) CPU time of the whole machine so far, in clock ticks (/proc/stat's first
    line; zeros where there is none). Stolen time is what the hypervisor gave other guests
    while this one wanted to run: a virtual machine's figures drift with it (bench/README)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields), fields[7] if len(fields) > 7 else 0


def tree_cpu(pids: Iterable[int]) -> float:
    """CPU seconds used so far by running processes and all their descendants (Linux /proc),
    with their reaped children's. NSD forks (xfrd, then main, then the server that answers):
    the process the harness started is not the one that works."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0, [pid for pid in pids if pid in stats]
    while todo:
        pid = todo.pop()
        fields = stats[pid]
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def start_world(folder: Path, args, processes: list, kernel: KernelDelay | None,
                compiled: Path | None = None) -> tuple[Callable[[], int], int, int, DelayProxy | None]:
    """NSD and Unbound on fresh ports, with the delay by the kernel (``kernel``, in this
    process's private network namespace) or by the delay proxy; tried again on other ports when
    a port was taken between choosing and binding it (other programs use loopback too). The
    realistic world adds a second NSD for the customer zones, reached through the delegations'
    addresses on port 53 (a resolver asks delegated servers on port 53 only: this needs root).
    ``compiled``: the compiled UDP loop of the delay proxy (``delay_proxy.compile_udp``), if any.
    Returns the count of upstream answers so far, Unbound's port, the port Unbound asks and
    the delay proxy (None with the kernel's delay)."""
    all_zones = sorted((folder / "zones").glob("*.zone"))
    shared = [z for z in all_zones if not is_customer_zone(z)]
    customers = [z for z in all_zones if is_customer_zone(z)]
    base = args.delay_ms / 1000
    extra = {address: base + ms / 1000 for _name, _share, ms, address in LATENCY_CLASSES} | {BASE_ADDRESS: base}
    proxy = None
    for attempt in range(3):
        nsd_port, proxy_port, child_port = free_port(), free_port(), free_port()
        resolver_port = 53 if args.compare else free_port()
        try:
            processes.append(start_nsd(folder, [("127.0.0.1", nsd_port)], shared))
            wait_for_dns(nsd_port)
            if kernel is not None:  # the servers answer on the world's addresses; the kernel delays
                upstream = nsd_port
                delays = {("127.0.0.1", nsd_port): base}
                if customers:
                    processes.append(start_nsd(folder, [(address, 53) for address in extra], customers,
                                               name="nsd-customers"))
                    wait_for_dns(53, customers[0].name.removesuffix(".zone"), address=BASE_ADDRESS)
                    delays |= {(address, 53): seconds for address, seconds in extra.items()}
                kernel.apply(delays, [f"{NET}.2.0/24"] if customers else [])  # the DEAD_ADDRESSES
                answers = kernel.answers
            else:
                upstream = proxy_port
                proxy = DelayProxy(proxy_port, nsd_port, base, compiled)
                if customers:
                    processes.append(start_nsd(folder, [("127.0.0.1", child_port)], customers, name="nsd-customers"))
                    wait_for_dns(child_port, customers[0].name.removesuffix(".zone"))
                    for address, seconds in extra.items():
                        proxy.add(address, 53, child_port, seconds)
                    for address in DEAD_ADDRESSES:
                        proxy.add_silent(address, 53)
                proxy.start()
                answers = proxy.answers
            processes.append(start_unbound(folder, resolver_port, upstream, args.unbound_threads))
            wait_for_dns(resolver_port)
            return answers, resolver_port, upstream, proxy
        except (OSError, RuntimeError, NetemUnavailable) as exc:
            print(f"could not start the DNS world ({exc}); trying other ports", file=sys.stderr)
            while processes:
                stop(processes.pop())
            if proxy is not None:
                proxy.stop()
                proxy = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def check_delays(upstream: int, resolver: int, classes: dict[str, str]) -> str:
    """Proof that the delay is applied, whichever way: one SOA question straight to each server
    of the world, timed from the harness (which is where Unbound is), and a dead address staying
    silent (a timeout, not an ICMP port unreachable: the socket is connected, so one would show
    as ConnectionRefusedError). In the uniform world also a cold name through Unbound (one
    delayed round trip; a name no audit asks). Not in the realistic one: Unbound would learn the
    slow servers' round-trip times before the audit (a cold +900 ms server costs its first
    question ~20 s of silence), and the run would not be the one it was before."""
    import dns.message

    def ask(address: str, port: int, name: str, timeout: float, kind: str = "SOA") -> str:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((address, port))
            sock.settimeout(timeout)
            started = time.monotonic()
            sock.send(dns.message.make_query(name, kind).to_wire())
            try:
                sock.recv(65535)
            except TimeoutError:
                return f"silent for {timeout:g} s"
            except ConnectionRefusedError:
                return "REFUSED (ICMP port unreachable: a resolver would not wait)"
            return f"{1000 * (time.monotonic() - started):.0f} ms"

    if not classes:
        return (f"upstream {ask('127.0.0.1', upstream, 'bench.test', 5)}, "
                f"a cold name via Unbound {ask('127.0.0.1', resolver, '_delay-check.bench.test', 5, 'TXT')}")
    first = {kind: domain for domain, kind in reversed(classes.items())}
    servers = {BASE_CLASS: BASE_ADDRESS} | {name: address for name, _s, _e, address in LATENCY_CLASSES}
    checks = [f"upstream {ask('127.0.0.1', upstream, 'bench.test', 5)}"]
    checks += [f"{kind} {ask(address, 53, first[kind], 5)}" for kind, address in servers.items() if kind in first]
    if DEAD_CLASS in first:
        checks.append(f"dead {ask(DEAD_ADDRESSES[0], 53, first[DEAD_CLASS], 0.5)}")
    return ", ".join(checks)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for_dns(port: int, name: str = "bench.test", timeout: float = 20, address: str = "127.0.0.1") -> None:
    import dns.message
    import dns.query

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            dns.query.udp(dns.message.make_query(name, "SOA"), address, port=port, timeout=0.5)
            return
        except Exception:  # noqa: BLE001 - not up yet, whatever the reason: ask again until the deadline
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers DNS on {address}:{port}")


def run_dnsaudit(folder: Path, csv: Path, resolver: int, concurrency: int, workers: str, profile: str = "") -> dict:
    stats = folder / "stats.json"
    sampler = (["py-spy", "record", "--subprocesses", "--rate", "250", "--format", "raw", "--output", profile, "--"]
               if profile else [])
    command = [*sampler, sys.executable, "-m", "dnsaudit", "audit", str(csv), "--nameserver", f"127.0.0.1:{resolver}",
               "--history", str(folder / "history.sqlite"), "--out", str(folder / "out"), "--quiet",
               "--stats", str(stats), "--concurrency", str(concurrency), "--workers", workers]
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1, 3) or not stats.exists():
        raise RuntimeError(f"dnsaudit failed ({proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(stats.read_text())
    data["wall_seconds"] = wall
    data["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return data


def run_checkdmarc(folder: Path, csv: Path, count: int) -> tuple[float, int]:
    """Seconds per domain for checkdmarc's CLI (it needs the resolver on port 53), and how
    many of its results found an SPF record (proof that it really asked our resolver)."""
    listing = folder / "checkdmarc-domains.txt"
    domains = [line.split(",")[0] for line in csv.read_text().splitlines()[1:count + 1]]
    listing.write_text("\n".join(domains) + "\n")
    output = folder / "checkdmarc.json"
    exe = shutil.which("checkdmarc") or str(Path(sys.executable).with_name("checkdmarc"))
    started = time.monotonic()
    proc = subprocess.run([exe, str(listing), "-n", "127.0.0.1", "--skip-tls", "-t", "5", "-o", str(output)],
                          capture_output=True, text=True, timeout=7200)
    seconds = time.monotonic() - started
    if proc.returncode != 0 or not output.exists():
        raise RuntimeError(f"checkdmarc failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = json.loads(output.read_text())
    results = results if isinstance(results, list) else [results]
    with_spf = sum(1 for r in results if (r.get("spf") or {}).get("record"))
    return seconds / len(domains), with_spf


def print_classes(results_file: Path, classes: dict[str, str]) -> None:
    """Per latency class: domains, median and maximum time per domain, the share that could
    not be assessed (from results.json: each domain's duration_ms and verdict)."""
    import statistics

    results = json.loads(results_file.read_text())["domains"]
    by_class: dict[str, list[tuple[int, bool]]] = {}
    for result in results:
        kind = classes.get(result["input"]["domain"], BASE_CLASS)
        by_class.setdefault(kind, []).append((result["duration_ms"], result["verdict"] == "could not assess"))
    unassessed = sum(flag for rows in by_class.values() for _ms, flag in rows)
    share = 100 * unassessed / max(len(results), 1)
    print(f"could not assess:   {unassessed} of {len(results)} domains ({share:.1f}%)")
    order = [BASE_CLASS, *(name for name, *_ in LATENCY_CLASSES), DEAD_CLASS]
    for kind in sorted(by_class, key=order.index):
        rows = by_class[kind]
        times = [ms for ms, _flag in rows]
        failed = sum(flag for _ms, flag in rows)
        print(f"class {kind + ':':<13}{len(rows)} domains, per domain median {statistics.median(times) / 1000:.2f} s, "
              f"max {max(times) / 1000:.2f} s; could not assess {failed}")


def choose_delay(wanted: str) -> tuple[KernelDelay | None, str]:
    """The kernel's delay (this process moved into a private network namespace) when wanted and
    possible, else None for the proxy; and what to print about it."""
    if wanted in ("proxy", "python-proxy"):
        return None, f"{wanted} (--delay-by {wanted})"
    kernel = KernelDelay()
    try:
        kernel.enter()
    except NetemUnavailable as exc:
        if wanted == "netem":
            raise SystemExit(f"--delay-by netem: {exc}") from exc
        return None, f"proxy (netem is not available here: {exc})"
    return kernel, "netem, on the loopback of a private network namespace"


SHARED_MEMORY = Path("/dev/shm")


def work_folder(wanted: str) -> tuple[Path, str]:
    """The run's temporary folder (zones, history, reports), and what to print about it.

    By default on tmpfs (``/dev/shm``) where there is one, because of what the harness itself
    does on ext4: each run deletes its folder at its end (at 10,000 domains ~8,500 files of
    fixes/ alone), and for the next minutes ext4's inode allocator looks at each inode freed
    meanwhile before it takes another (``recently_deleted()`` in fs/ext4/ialloc.c: 60 s, 300 s
    while the inode table's block is dirty). A run right after another then paid 3.7-3.9 s of
    system CPU to create fixes/ instead of 0.2-0.3 s (bench/README.md, the tenth round); a
    user's run, with no mass deletion just before it, does not pay that. ``--tmp DIR`` chooses.
    """
    if wanted:
        return Path(tempfile.mkdtemp(prefix="dnsaudit-bench-", dir=wanted)), f"{wanted} (--tmp)"
    if _is_tmpfs(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK | os.X_OK):
        return (Path(tempfile.mkdtemp(prefix="dnsaudit-bench-", dir=SHARED_MEMORY)),
                f"{SHARED_MEMORY} (tmpfs: a run's cleanup costs the next run nothing; --tmp DIR to choose)")
    folder = Path(tempfile.mkdtemp(prefix="dnsaudit-bench-"))
    return folder, f"{folder.parent} (no tmpfs at {SHARED_MEMORY})"


def _is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(line.split()[1:3] == [str(path), "tmpfs"] for line in mounts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=1000, metavar="N", help="synthetic domains (default 1000)")
    parser.add_argument("--delay-ms", type=float, default=20.0, metavar="MS",
                        help="added to every upstream answer (default 20)")
    parser.add_argument("--concurrency", type=int, default=64, metavar="N", help="dnsaudit --concurrency (default 64)")
    parser.add_argument("--workers", default="auto", metavar="N|auto", help="dnsaudit --workers (default: auto)")
    parser.add_argument("--compare", type=int, metavar="N", nargs="?", const=100, default=0,
                        help="also time checkdmarc's CLI (one domain after another) on the first N domains "
                        "(default 100) and print the ratio; needs port 53 for Unbound")
    parser.add_argument("--profile", metavar="FILE", default="",
                        help="sample dnsaudit with py-spy (pip install py-spy) into FILE, collapsed stacks")
    parser.add_argument("--realistic", action="store_true",
                        help="model the internet: every domain its own zone behind the name server of its latency "
                        "class (25%% +60 ms, 10%% +200 ms, 3%% +900 ms on top of --delay-ms, each class on its own "
                        "address) and 3%% lame delegations to addresses where nothing answers; prints each class's "
                        "median and maximum time per domain (needs root: delegated servers listen on port 53)")
    parser.add_argument("--delay-by", choices=("auto", "netem", "proxy", "python-proxy"), default="auto",
                        help="how the delay is added: netem, the kernel's, on the loopback of a private network "
                        "namespace (root; costs the measured run no CPU), or the delay proxy (on the same cores as "
                        "dnsaudit; its UDP loop compiled from bench/delay_udp.c where a C compiler is found, else "
                        "in Python; python-proxy: in Python always); auto (default): netem where this machine "
                        "allows it, else the proxy")
    parser.add_argument("--unbound-threads", type=int, default=1, metavar="N",
                        help="Unbound's num-threads (default 1: its second thread cost 10-15%% more of Unbound's "
                        "CPU on these two cores shared with dnsaudit, see bench/README.md)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (zones, reports, logs)")
    parser.add_argument("--tmp", metavar="DIR", default="",
                        help="where the temporary folder goes (default: /dev/shm where it is a tmpfs, else the "
                        "system's temporary folder; why: work_folder() in this file)")
    args = parser.parse_args()
    ensure_packages()
    kernel, how = choose_delay(args.delay_by)  # before any thread starts: unshare(2) moves only the caller
    folder, where = work_folder(args.tmp)
    print(f"work folder:        {where}", flush=True)
    csv, classes = generate(args.domains, folder, realistic=args.realistic)
    processes: list = []
    proxy = None
    try:
        compiled, why = None, ""
        if kernel is None and args.delay_by != "python-proxy":
            compiled, why = compile_udp(folder)
        answers, resolver_port, upstream, proxy = start_world(folder, args, processes, kernel, compiled)
        if kernel is None:
            how += (", UDP by bench/delay_udp.c compiled" if compiled is not None
                    else ", UDP by the Python loop" + (f" ({why})" if why else ""))
        print(f"delay by:           {how}")
        print(f"delay check:        {check_delays(upstream, resolver_port, classes)}", flush=True)
        unbound, nsd = processes[-1:], processes[:-1]  # start_world starts Unbound last
        udp_loop = [proxy.udp_process.pid] if proxy is not None and proxy.udp_process is not None else []
        before = tree_cpu(p.pid for p in unbound), tree_cpu(p.pid for p in nsd), answers()
        own_before, loop_before, ticks_before = time.process_time(), tree_cpu(udp_loop), machine_ticks()
        result = run_dnsaudit(folder, csv, resolver_port, args.concurrency, args.workers, args.profile)
        # The delay proxy's threads (the harness waits meanwhile) and its compiled UDP loop.
        proxy_cpu = time.process_time() - own_before + tree_cpu(udp_loop) - loop_before
        ticks_after = machine_ticks()
        all_ticks, stolen_ticks = ticks_after[0] - ticks_before[0], ticks_after[1] - ticks_before[1]
        unbound_cpu, nsd_cpu = tree_cpu(p.pid for p in unbound) - before[0], tree_cpu(p.pid for p in nsd) - before[1]
        servers_cpu = unbound_cpu + nsd_cpu
        phases = result["phases"]
        audit_seconds = phases.get("audit", 0) + phases.get("history", 0)
        print(f"domains:            {result['domains']}")
        print(f"added delay:        {args.delay_ms:g} ms per upstream answer "
              f"({answers() - before[2]} upstream answers)")
        print(f"wall time:          {result['wall_seconds']:.1f} s (dnsaudit's own: {result['seconds']:.1f} s)")
        print(f"domains per second: {result['domains'] / result['wall_seconds']:.1f}")
        print(f"DNS queries/second: {result['dns']['queries_sent'] / max(audit_seconds, 1e-9):.0f} "
              f"({result['dns']['queries_sent']} queries for {result['dns']['questions']} distinct questions)")
        workers = result.get("peak_rss_mb_workers", [])
        writers = result.get("private_mb_report_writers", [])
        after = result.get("peak_rss_mb_after", {})
        print(f"peak memory:        {result['peak_rss_mb']:.0f} MB, all processes at once (main process: "
              + ", ".join(f"{k} {v:.0f}" for k, v in after.items()) + f", at the end {result['peak_rss_mb_main']:.0f}"
              + ("; workers: " + " + ".join(f"{w:.0f}" for w in workers) if workers else "")
              + ("; report writers of their own: " + " + ".join(f"{w:.0f}" for w in writers) if writers else "")
              + ")")
        per_domain = 1000 * result["cpu_seconds"] / result["domains"]
        print(f"dnsaudit CPU:       {result['cpu_seconds']:.1f} s ({per_domain:.1f} ms "
              f"per domain; main process {result['cpu_seconds_main']:.1f} s"
              + "".join(f", worker {c:.1f} s" for c in result.get("cpu_seconds_workers", [])) + ")")
        print(f"resolver side CPU:  {servers_cpu + (0 if kernel else proxy_cpu):.1f} s (Unbound and NSD "
              f"{servers_cpu:.1f} s: {unbound_cpu:.2f} + {nsd_cpu:.2f}, "
              + ("the delay in the kernel" if kernel else f"delay proxy {proxy_cpu:.2f} s")
              + "), on the same two cores")
        if all_ticks > 0:
            tick = os.sysconf("SC_CLK_TCK")
            print(f"stolen CPU time:    {100 * stolen_ticks / all_ticks:.1f}% of the machine's CPU time during the run "
                  f"({stolen_ticks / tick:.1f} s: the hypervisor running other guests; figures of runs with "
                  "more than a few % do not compare)")
        total = sum(phases.values()) or 1
        print("time per phase:     " + ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f}%)" for k, v in phases.items()))
        print(f"Unbound's list:     {unbound_requestlist(folder)}")
        print_classes(folder / "out" / "results.json", classes)
        if args.compare:
            theirs, with_spf = run_checkdmarc(folder, csv, args.compare)
            ours = result["wall_seconds"] / result["domains"]
            print(f"checkdmarc CLI:     {theirs:.3f} s per domain on {min(args.compare, args.domains)} domains "
                  f"({with_spf} SPF records "
                  f"found); dnsaudit {ours:.4f} s per domain: {theirs / ours:.0f}x faster")
        if args.keep:
            print(f"kept: {folder}")
    finally:
        for proc in processes:
            stop(proc)
        if proxy is not None:
            proxy.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
