"""The benchmark's delay in the kernel: a private network namespace whose loopback holds back
the name servers' answers with netem, by source address and port.

Why: the Python delay proxy (``bench/delay_proxy.py``) runs on the same two cores as the
audit it measures (2.9 CPU s of a 10,000-domain run, 4.3-5.9 s in the realistic world); on
the internet latency costs the auditing machine nothing. netem (tc-netem(8)) delays a packet
in the kernel's queue of the interface, so no process of ours spends CPU on it.

Why a namespace of our own: a qdisc on the machine's loopback would delay every other
program's loopback traffic, other engineers' tests included. ``unshare(CLONE_NEWNET)``
(unshare(2)) gives the harness process, and every process it starts afterwards (NSD,
Unbound, dnsaudit, checkdmarc), a network stack of its own with only a loopback interface;
it disappears with the last of those processes, so a crashed run leaves nothing behind
(``ip netns add`` would leave a name in /run/netns). The harness keeps a handle on the
namespace it came from and goes back to it when the kernel cannot do the delay, so that the
caller can fall back to the proxy.

The tree on ``lo`` (tc-htb(8), tc-u32(8)): an htb root whose unclassified packets (the
queries, dnsaudit <-> Unbound) pass straight through htb's direct queue; one htb class per
distinct delay with a netem leaf, chosen by a u32 filter on the answer's source address and
port (each latency class of the realistic world answers from an address of its own); and a
class whose leaf is a ``pfifo`` of limit 0 for the dead addresses (by destination), which
drops every query silently: the sending socket is told nothing (UDP ignores the queue's
ENOBUFS unless IP_RECVERR is set, see udp(7)) and no ICMP port unreachable is made, because
the packet never reaches the local stack. The resolver sees a timeout, as from a lame server.

Every packet on loopback leaves through ``lo`` once, so each answer is delayed exactly once,
and a query is not delayed at all: ``--delay-ms`` is the added time per upstream round trip,
as with the proxy.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000  # <linux/sched.h>
RATE = "100gbit"  # htb classes must have a rate; this one never limits a loopback answer
NETEM_LIMIT = 100_000  # packets held at once per class (netem's default of 1,000 is ~50 ms of answers)


class Unavailable(Exception):
    """The kernel delay cannot be set up here; the message says why."""


def _libc_call(name: str, *args: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise Unavailable(f"{name}: {os.strerror(errno)}")


def _tc(*args: str) -> None:
    done = subprocess.run(["tc", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise Unavailable(f"tc {' '.join(args)}: {done.stderr.strip() or done.returncode}")


@dataclass
class KernelDelay:
    """The private namespace and its tc tree. ``enter()`` first, before the harness starts any
    thread (unshare(2) moves the calling thread only), then ``apply()``."""

    _home: int = -1

    def enter(self) -> None:
        """Move this process into a new network namespace with its loopback up."""
        if os.geteuid() != 0:
            raise Unavailable("not root (a network namespace and tc need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY)
        try:
            _libc_call("unshare", CLONE_NEWNET)
        except Unavailable:
            self._close_home()
            raise
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
            self._probe()
        except (OSError, subprocess.CalledProcessError) as exc:
            self.leave()
            raise Unavailable(f"ip link set lo up: {exc}") from exc
        except Unavailable:
            self.leave()
            raise

    def _probe(self) -> None:
        """Fail now, before any server starts in here, if this kernel has no netem."""
        _tc("qdisc", "add", "dev", "lo", "root", *self._leaf(0.001))
        _tc("qdisc", "del", "dev", "lo", "root")

    @staticmethod
    def _leaf(seconds: float) -> list[str]:
        return ["netem", "delay", f"{seconds * 1000:g}ms", "limit", str(NETEM_LIMIT)]

    def leave(self) -> None:
        """Back to the namespace ``enter`` came from (the private one goes when nothing uses it)."""
        if self._home >= 0:
            _libc_call("setns", self._home, CLONE_NEWNET)
            self._close_home()

    def _close_home(self) -> None:
        os.close(self._home)
        self._home = -1

    def apply(self, delays: dict[tuple[str, int], float], dropped: list[str]) -> None:
        """Build the tree on this namespace's loopback (replacing any from an earlier try):
        answers from each (address, port) of ``delays`` (UDP and TCP) wait its seconds on their
        way back; packets to each prefix (a.b.c.d/len) of ``dropped`` vanish."""
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)
        _tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "r2q", "100000")  # no default: direct
        classes: dict[float, int] = {}
        for seconds in sorted(set(delays.values())):
            minor = classes[seconds] = 10 + len(classes)
            _tc("class", "add", "dev", "lo", "parent", "1:", "classid", f"1:{minor}", "htb", "rate", RATE)
            _tc("qdisc", "add", "dev", "lo", "parent", f"1:{minor}", "handle", f"{minor}:", *self._leaf(seconds))
        for (address, port), seconds in sorted(delays.items()):
            _tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                "match", "ip", "src", f"{address}/32", "match", "ip", "sport", str(port), "0xffff",
                "flowid", f"1:{classes[seconds]}")
        if dropped:
            _tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:2", "htb", "rate", RATE)
            _tc("qdisc", "add", "dev", "lo", "parent", "1:2", "handle", "2:", "pfifo", "limit", "0")
            for prefix in dropped:
                _tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "2", "u32",
                    "match", "ip", "dst", prefix, "flowid", "1:2")

    def answers(self) -> int:
        """Packets that went through a delay class so far: the upstream answers (a TCP answer
        counts its segments, the handshake's too; UDP is all but the rare truncated answer)."""
        shown = subprocess.run(["tc", "-s", "class", "show", "dev", "lo"], capture_output=True, text=True).stdout
        sent = re.findall(r"class htb 1:(\d+) .*?\n\s*Sent \d+ bytes (\d+) pkt", shown)
        return sum(int(packets) for minor, packets in sent if int(minor) >= 10)
