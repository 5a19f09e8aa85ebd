"""The test DNS server itself: it answers from a process of its own, whatever the test's
process is doing, and what a test changes after it started reaches it."""

from __future__ import annotations

import subprocess
import sys
import time

import dns.message
import dns.query
import dns.rcode

from dnsaudit.testing import ZoneServer

ZONE = "@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\nwww A 192.0.2.7\n"

# Asks for www.gil.test every 20 ms until stopped (or argv[2] seconds) and prints when each
# answer came (wall-clock seconds).
CLIENT = """
import sys, time
import dns.message, dns.query
port = int(sys.argv[1])
print("ready", flush=True)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        dns.query.udp(dns.message.make_query("www.gil.test", "A"), "127.0.0.1", port=port, timeout=0.2)
        print(time.time(), flush=True)
    except Exception:
        pass
    time.sleep(0.02)
"""


def _hold_the_interpreter_lock(seconds: float) -> tuple[float, float]:
    """One C call that never gives up the interpreter lock (sum over a range runs without the
    evaluation loop's checks), sized to last about ``seconds``; when it began and ended.
    On a loaded machine a first guess at the size can fall short: the size is measured again
    from the hold itself until one hold lasts long enough (at most three tries)."""
    items = 10**6
    began = time.perf_counter()
    sum(range(items))
    took = time.perf_counter() - began
    for _ in range(3):
        items = int(items * seconds / max(took, 1e-6))
        start = time.time()
        sum(range(items))
        end = time.time()
        took = end - start
        if took > seconds / 2:
            break
    return start, end


def test_the_server_answers_while_the_tests_process_holds_the_interpreter_lock():
    """In the test's process, the server stopped answering whenever the audit under test kept
    the interpreter lock; a run's burst of questions then timed out (the report tests' flood
    of "could not assess"). Served from its own process, answers keep coming."""
    server = ZoneServer()
    server.add_zone_text("gil.test.", ZONE)
    with server:
        client = subprocess.Popen([sys.executable, "-c", CLIENT, str(server.port), "30"], stdout=subprocess.PIPE,
                                  text=True)
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # the client is asking
        start, end = _hold_the_interpreter_lock(2.0)
        client.terminate()
        output, _ = client.communicate(timeout=30)
    answered = [float(line) for line in output.split()]
    assert end - start > 1.0, "the lock was not held long enough to tell"
    during = [t for t in answered if start + 0.2 < t < end - 0.1]
    assert len(during) >= 5, (start, end, answered)


def test_changes_after_start_reach_the_running_server():
    server = ZoneServer()
    with server:
        ask = dns.message.make_query("www.late.test", "A")
        assert dns.query.udp(ask, "127.0.0.1", port=server.port, timeout=2).rcode() == dns.rcode.REFUSED
        server.add_zone_text("late.test.", ZONE)
        reply = dns.query.udp(ask, "127.0.0.1", port=server.port, timeout=2)
        assert [r.to_text() for r in reply.answer[0]] == ["192.0.2.7"]
        server.set_fault("www.late.test", "servfail")
        assert dns.query.udp(ask, "127.0.0.1", port=server.port, timeout=2).rcode() == dns.rcode.SERVFAIL
        server.set_fault("www.late.test", None)
        server.delay = 0.3
        began = time.monotonic()
        assert dns.query.udp(ask, "127.0.0.1", port=server.port, timeout=2).rcode() == dns.rcode.NOERROR
        assert time.monotonic() - began >= 0.25
        assert server.count("www.late.test", "A") == 4
        assert [q[0] for q in server.queries] == ["udp"] * 4


def test_a_stopped_server_is_gone_and_can_start_again():
    server = ZoneServer()
    server.add_zone_text("again.test.", ZONE)
    with server:
        process = server._process
        assert process is not None and process.poll() is None
    assert process.poll() is not None  # stopping ends its process
    assert server.queries == []
    with server:
        reply = dns.query.udp(dns.message.make_query("www.again.test", "A"), "127.0.0.1", port=server.port,
                              timeout=2)
        assert reply.rcode() == dns.rcode.NOERROR
    assert server.queries == [("udp", "www.again.test.", "A")]  # still there once it stopped
    with server:
        dns.query.udp(dns.message.make_query("www.again.test", "A"), "127.0.0.1", port=server.port, timeout=2)
        assert server.count("www.again.test", "A") == 2  # and counted on from there
