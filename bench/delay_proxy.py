"""The benchmark's fallback delay: a UDP and TCP proxy in front of NSD.

``bench/run.py`` uses it when the kernel cannot add the delay (``--delay-by proxy``, or no
netem, no network namespace, not root: see ``bench/netem.py``). It runs on the cores the
measured run uses, so every answer it delays costs CPU the internet's latency would not:
UDP (nearly every answer) goes through ``bench/delay_udp.c``, compiled here with the
machine's C compiler, where there is one (``compile_udp``), else through the Python loop
below; TCP and the silent listeners stay in Python (they are idle nearly all the time).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

C_SOURCE = Path(__file__).with_name("delay_udp.c")


def compile_udp(folder: Path) -> tuple[Path | None, str]:
    """``bench/delay_udp.c`` compiled into ``folder``: the program, or None and why not."""
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if compiler is None:
        return None, "no C compiler (cc, gcc)"
    program = folder / "delay_udp"
    done = subprocess.run([compiler, "-O2", "-o", str(program), str(C_SOURCE)], capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"{compiler} failed: {done.stderr.strip()[:300]}"
    return program, ""

# The delay proxy's UDP loop wakes at most once per TICK and sends every reply due within half
# a TICK: fewer wakeups, each serving many packets, for answers at most a millisecond off.
TICK = 0.001


class DelayProxy:
    """UDP and TCP in front of NSD, adding a delay to every answer: one listener per name-server
    address of the world, each with its own delay and upstream, and silent listeners (a lame
    delegation: the datagram arrives and nothing ever answers).

    The proxy runs in the harness's process, on the same two cores as dnsaudit, so what it
    costs is CPU taken from the run being measured: UDP (every answer but the rare truncated
    one) goes through one plain ``selectors`` loop in a thread of its own, not asyncio. Each
    listener's delay is constant, so its replies fall due in the order they came: a FIFO per
    listener is the timer queue (no heap, no timer object per packet), and each readable
    socket is drained until it would block, at most one wakeup per ``TICK``. Measured on 1,000
    domains (~20,000 answers, load average 3-6): the asyncio version with a ``call_later`` per
    answer used 1.2-1.6 s of CPU, this one 0.8-0.9 s (17,600 wakeups -> 5,100); alone, 20,000
    answers cost ~120-155 us each before and ~35 us after, client included. TCP and the
    silent listeners stay on an asyncio loop in a second thread (idle nearly all the time).
    """

    def __init__(self, listen: int, target: int, delay: float, compiled: Path | None = None) -> None:
        """``compiled``: the program ``compile_udp`` made, to carry UDP instead of the Python loop."""
        self.compiled = compiled
        self.udp_process: subprocess.Popen | None = None
        self.listeners: list[tuple[str, int, int, float]] = [("127.0.0.1", listen, target, delay)]
        self.silent: list[tuple[str, int]] = []
        self._tcp_answers = 0
        self.unanswered = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.udp_thread = threading.Thread(target=self._run_udp, daemon=True)
        self._udp: list[_UdpListener] = []

    def add(self, address: str, port: int, target: int, delay: float) -> None:
        self.listeners.append((address, port, target, delay))

    def add_silent(self, address: str, port: int) -> None:
        self.silent.append((address, port))

    def start(self) -> None:
        """Start serving; raises OSError when a port could not be bound."""
        self.ready = threading.Event()
        self.error: BaseException | None = None
        if self.compiled is not None:
            self._start_compiled()
        else:
            try:
                self._udp = [_UdpListener(address, port, target, delay)
                             for address, port, target, delay in self.listeners]
            except OSError:
                for listener in self._udp:
                    listener.close()
                raise
        self.thread.start()
        self.ready.wait(10)
        if self.error is not None:
            self.stop()
            raise self.error
        if self.compiled is None:
            self.udp_thread.start()

    def _start_compiled(self) -> None:
        arguments = [f"{address}:{port}:{target}:{round(delay * 1e6)}"
                     for address, port, target, delay in self.listeners]
        self.udp_process = subprocess.Popen([str(self.compiled), *arguments], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.udp_process.stdout is not None
        line = self.udp_process.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise OSError(f"the compiled UDP delay proxy did not start: {line or 'it ended'}")

    def stop(self) -> None:
        """Let go of the UDP sockets (the compiled proxy ends, the Python loop's sockets close)."""
        if self.udp_process is not None:
            if self.udp_process.stdin is not None:
                with contextlib.suppress(OSError):  # it ended already
                    self.udp_process.stdin.close()
            try:
                self.udp_process.wait(5)
            except subprocess.TimeoutExpired:
                self.udp_process.kill()
                self.udp_process.wait()
            self.udp_process = None
        for listener in self._udp:
            listener.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start() in the main thread
            self.error = exc
            return
        finally:
            self.ready.set()
        self.loop.run_forever()

    def _run_udp(self) -> None:
        """The UDP loop: send what is due, wait for a socket or the next due reply, drain."""
        import selectors

        selector = selectors.EpollSelector() if hasattr(selectors, "EpollSelector") else selectors.DefaultSelector()
        for listener in self._udp:
            selector.register(listener.down, selectors.EVENT_READ, listener.from_client)
            selector.register(listener.up, selectors.EVENT_READ, listener.from_server)
        queues = [listener.due for listener in self._udp]
        clock, pause = time.monotonic, time.sleep
        last = clock()
        while True:
            now = clock()
            if now - last < TICK:  # let packets gather in the sockets' buffers: one wakeup serves many
                pause(TICK - (now - last))
                now = clock()
            last = now
            wait = None
            for listener, due in zip(self._udp, queues):
                if due:
                    listener.flush(now + TICK / 2)
                    if due and (wait is None or due[0][0] - now < wait):
                        wait = max(due[0][0] - now, 0.0)
            for key, _events in selector.select(wait):
                key.data()

    def answers(self) -> int:
        """Answers passed on so far, UDP and TCP."""
        if self.udp_process is not None:
            assert self.udp_process.stdin is not None and self.udp_process.stdout is not None
            self.udp_process.stdin.write("\n")
            return int(self.udp_process.stdout.readline()) + self._tcp_answers
        return sum(listener.answers for listener in self._udp) + self._tcp_answers

    async def _serve(self) -> None:
        for address, port, target, delay in self.listeners:
            await asyncio.start_server(lambda r, w, t=target, d=delay: self._forward_tcp(r, w, t, d), address, port)
        proxy = self

        class Silent(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                proxy.unanswered += 1

        for address, port in self.silent:
            await self.loop.create_datagram_endpoint(Silent, local_addr=(address, port))

    async def _forward_tcp(self, reader, writer, target: int, delay: float) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
            while True:
                head = await reader.readexactly(2)
                body = await reader.readexactly(int.from_bytes(head, "big"))
                up_writer.write(head + body)
                head = await up_reader.readexactly(2)
                answer = await up_reader.readexactly(int.from_bytes(head, "big"))
                await asyncio.sleep(delay)
                self._tcp_answers += 1
                writer.write(head + answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpListener:
    """One name-server address of the world: queries from clients get a fresh ID and go to the
    upstream NSD; its replies wait ``delay`` in a FIFO, then go back with the client's ID."""

    def __init__(self, address: str, port: int, target: int, delay: float) -> None:
        from collections import deque

        self.delay = delay
        self.down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for sock in (self.down, self.up):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
                sock.setblocking(False)
            self.down.bind((address, port))
            self.up.connect(("127.0.0.1", target))
        except OSError:
            self.close()
            raise
        self.waiting: dict[int, tuple[bytes, tuple]] = {}  # upstream id -> (client's id, client address)
        self.next_id = 0
        self.due: deque[tuple[float, bytes, tuple]] = deque()  # (when, reply, client address), in order
        self.answers = 0

    def from_client(self) -> None:
        recv, send, waiting = self.down.recvfrom, self.up.send, self.waiting
        while True:
            try:
                data, addr = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            if len(data) < 12:
                continue
            self.next_id = upstream_id = (self.next_id + 1) % 65536
            waiting[upstream_id] = (data[:2], addr)
            try:  # noqa: SIM105 - per packet: a try costs nothing, contextlib.suppress a call
                send(upstream_id.to_bytes(2, "big") + data[2:])
            except OSError:
                pass  # NSD gone or its buffer full: the client times out, as on a real network

    def from_server(self) -> None:
        recv, waiting, due, clock, delay = self.up.recv, self.waiting, self.due, time.monotonic, self.delay
        while True:
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError, ConnectionRefusedError):
                return
            entry = waiting.pop(int.from_bytes(data[:2], "big"), None)
            if entry is not None:
                self.answers += 1
                due.append((clock() + delay, entry[0] + data[2:], entry[1]))

    def flush(self, now: float) -> None:
        due, send = self.due, self.down.sendto
        while due and due[0][0] <= now:
            _when, reply, addr = due.popleft()
            try:  # noqa: SIM105 - per packet, as above
                send(reply, addr)
            except OSError:
                pass  # the client's socket is gone (dnsaudit ended): nothing to deliver

    def close(self) -> None:
        self.down.close()
        self.up.close()
