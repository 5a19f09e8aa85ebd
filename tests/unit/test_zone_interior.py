"""The zones' empty non-terminals (RFC 4592 section 2.2.2), worked out once per zone.

``dnsaudit.zones`` keeps, per zone, the names that own something below them; these tests
cross-check that set against the definition asked of every node (what the code did before,
at the cost of the zone's size per answer), for random zones and after the zone grows.
"""

from __future__ import annotations

import dns.name
import dns.rdatatype
import dns.zone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsaudit.zones import ZoneSet, _is_empty_non_terminal, zone_from_text

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
labels = st.sampled_from(["a", "b", "c", "www", "_tcp", "x-1"])
owners = st.lists(st.lists(labels, min_size=1, max_size=4), min_size=0, max_size=12)


def by_definition(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    return any(owner != name and owner.is_subdomain(name) for owner in zone.nodes)


def build(paths: list[list[str]]) -> dns.zone.Zone:
    lines = ["@ SOA ns. host. 1 2 3 4 5"] + [f"{'.'.join(path)} A 192.0.2.1" for path in paths]
    return zone_from_text("\n".join(lines) + "\n", "z.test.")


def every_name_near(zone: dns.zone.Zone) -> set[dns.name.Name]:
    """The zone's owners, all their ancestors and some names that are not there."""
    names = set()
    for owner in zone.nodes:
        for depth in range(len(owner.labels) + 1):
            names.add(dns.name.Name(owner.labels[depth:]))
        names.add(dns.name.Name((b"missing",) + owner.labels))
    return names


@BOUNDED
@given(owners)
def test_empty_non_terminals_match_the_definition(paths):
    zone = build(paths)
    for name in every_name_near(zone):
        assert _is_empty_non_terminal(zone, name) == by_definition(zone, name), name


@BOUNDED
@given(owners, st.lists(labels, min_size=2, max_size=4))
def test_a_zone_that_grows_is_worked_out_again(paths, new_path):
    zone = build(paths)
    for name in every_name_near(zone):
        _is_empty_non_terminal(zone, name)  # fills the cache
    new_owner = dns.name.from_text(".".join(new_path), zone.origin)
    zone.find_node(new_owner, create=True).find_rdataset(dns.rdataclass.IN, dns.rdatatype.TXT, create=True)
    for name in every_name_near(zone):
        assert _is_empty_non_terminal(zone, name) == by_definition(zone, name), name


def test_lookups_answer_empty_non_terminals_and_wildcards_in_a_large_zone():
    """A planned zone of thousands of names (an MSP's one zone of customer records): the
    answers stay those of an authoritative server. (Before the set, each of these questions
    read every node; bench/README.md has the run that took more than 10 minutes.)"""
    lines = ["@ SOA ns. host. 1 2 3 4 5", "*.wild A 192.0.2.7"]
    lines += [f"host{n}.c{n}.customers A 192.0.2.{n % 250 + 1}" for n in range(5000)]
    zones = ZoneSet()
    zones.add(zone_from_text("\n".join(lines) + "\n", "big.test."), "big.test.zone")
    assert zones.lookup("c17.customers.big.test.", "A").rcode == "NOERROR"  # empty non-terminal
    assert zones.lookup("c17.customers.big.test.", "A").answer == ()
    assert zones.lookup("nothing.c17.customers.big.test.", "A").rcode == "NXDOMAIN"
    assert zones.lookup("customers.big.test.", "TXT").rcode == "NOERROR"
    found = zones.lookup("any.wild.big.test.", "A")
    assert found.rcode == "NOERROR" and found.answer[0][0].to_text() == "192.0.2.7"
    assert zones.lookup("host4999.c4999.customers.big.test.", "A").answer[0][0].to_text() == "192.0.2.250"
