"""A long fuzz run of the DNS reply reader (``dnsaudit.net.wire.parse_reply``); not part of the suite.

    python tests/fuzz/fuzz_wire.py                # 1,000,000 inputs (some 30 seconds)
    python tests/fuzz/fuzz_wire.py 5000000 --seed 7

Each input is a real reply (dnspython-built: CNAME chains, A, AAAA, MX, TXT, SRV records,
compressed names) damaged at random (bytes flipped, cut, inserted, compression pointers
aimed anywhere, counts inflated) or plain random bytes behind a matching header. The
property is the suite's (tests/unit/test_wire_properties.py): a Reply, None or
MalformedReply, never another exception. The first counterexample is written to
``fuzz-wire-crash.bin`` and the run exits 1.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
import traceback

import dns.message
import dns.rdatatype
import dns.rrset

from dnsaudit.net.wire import MalformedReply, Question, parse_reply

QUERY_ID = 0x4242
TYPES = [dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.MX, dns.rdatatype.TXT, dns.rdatatype.SRV,
         dns.rdatatype.CNAME]


def seed_replies(rng: random.Random) -> list[tuple[Question, bytes]]:
    seeds = []
    for rdtype in TYPES:
        question = Question.make("www.example.test.", rdtype)
        query = dns.message.from_wire(question.query(QUERY_ID, 1232))
        for variant in range(4):
            response = dns.message.make_response(query)
            if variant % 2:
                response.use_edns(False)
            owner = "www.example.test."
            if variant >= 2:
                response.answer.append(dns.rrset.from_text(owner, 60, "IN", "CNAME", "host.example.test."))
                owner = "host.example.test."
            text = {dns.rdatatype.A: "192.0.2.1", dns.rdatatype.AAAA: "2001:db8::1",
                    dns.rdatatype.MX: "10 mail.example.test.", dns.rdatatype.TXT: '"v=spf1 -all" "x"',
                    dns.rdatatype.SRV: "0 5 443 host.example.test.", dns.rdatatype.CNAME: "t.example.test."}[rdtype]
            response.answer.append(dns.rrset.from_text(owner, 60, "IN", dns.rdatatype.to_text(rdtype), text))
            seeds.append((question, response.to_wire()))
    return seeds


def mutate(rng: random.Random, wire: bytes) -> bytes:
    data = bytearray(wire)
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        at = rng.randrange(len(data))
        action = rng.random()
        if action < 0.4:
            data[at] = rng.randrange(256)
        elif action < 0.55:
            del data[at:at + rng.randint(1, 16)]
        elif action < 0.7:
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        elif action < 0.85:  # a compression pointer to anywhere
            data[at:at + 2] = struct.pack("!H", 0xC000 | rng.randrange(0x4000))
        elif len(data) >= 12:  # inflate a section count
            section = rng.choice((4, 6, 8, 10))
            data[section:section + 2] = struct.pack("!H", rng.randrange(65536))
    return bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seeds = seed_replies(rng)
    outcomes = {"reply": 0, "not ours": 0, "malformed": 0}
    started = time.monotonic()
    for i in range(args.count):
        question, wire = rng.choice(seeds)
        data = mutate(rng, wire) if rng.random() < 0.9 else wire[:12] + rng.randbytes(rng.randint(0, 512))
        try:
            result = parse_reply(data, QUERY_ID, question)
            outcomes["reply" if result is not None else "not ours"] += 1
        except MalformedReply:
            outcomes["malformed"] += 1
        except Exception:  # noqa: BLE001 - any other exception is the crash the fuzzer looks for
            with open("fuzz-wire-crash.bin", "wb") as handle:
                handle.write(data)
            traceback.print_exc()
            print(f"input {i} (seed {args.seed}) raised; written to fuzz-wire-crash.bin", file=sys.stderr)
            return 1
    seconds = time.monotonic() - started
    print(f"{args.count:,} inputs in {seconds:.0f} s, no unexpected exception: "
          + ", ".join(f"{n:,} {k}" for k, n in outcomes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
