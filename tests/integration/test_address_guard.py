"""† The address guard against a real listener: IPv4-embedding IPv6 forms of private addresses.

In a network namespace of its own (``unshare -n``; nothing there reaches past its loopback)
each form is put on the loopback interface, so a connection to it really arrives at a
local listener, as a NAT64 gateway, 6to4 relay or dual-stack socket would deliver it.
Without --allow-private the listener must never be contacted; with it, every form is
reached (which proves the test can fail).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("netns_guard_probe.py")
FORMS = [
    "64:ff9b::7f00:1",  # NAT64 (RFC 6052) of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254, the cloud metadata address
    "64:ff9b:1::a00:1",  # local-use NAT64 (RFC 8215), 10.0.0.1
    "2002:7f00:1::1",  # 6to4 (RFC 3056) of 127.0.0.1
    "::127.0.0.1",  # IPv4-compatible (RFC 4291)
    "::ffff:0:a00:1",  # IPv4-translated (RFC 2765) of 10.0.0.1
    "::ffff:127.0.0.1",  # IPv4-mapped (RFC 4291), loopback through any dual-stack socket
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo (RFC 4380), client 127.0.0.1
]


def run_probe() -> dict:
    unshare = shutil.which("unshare")
    assert unshare and os.geteuid() == 0, "the guard test needs root and util-linux's unshare (tests/run runs as root)"
    done = subprocess.run([unshare, "--net", sys.executable, str(PROBE), *FORMS], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_no_ipv4_embedding_form_of_a_private_address_is_connected_to():
    report = run_probe()
    guarded = report["guarded"]
    assert guarded["contacted"] == []
    for form, result in zip(FORMS, guarded["results"]):
        assert result["status"] == 0 and result["blocked"] == [form], (form, result)
        assert "non-public addresses" in result["error"], (form, result)
    allowed = report["allowed"]  # the same names with --allow-private: every listener address is reached
    assert [r["status"] for r in allowed["results"]] == [200] * len(FORMS), allowed
    assert len(allowed["contacted"]) == len(FORMS)
