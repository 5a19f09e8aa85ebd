"""[[expect]] tables fill the cloud, phase and gateway columns a row left empty; the row's own value wins."""

from __future__ import annotations

from functools import partial

from dnsaudit.inputs import read_input
from dnsaudit.model import Cloud, Phase
from dnsaudit.policy.expectations import Expectation, input_defaults

TABLES = [Expectation("t, expect 1", client="Acme", cloud="gcc-high", phase="hybrid", gateway="mimecast.com"),
          Expectation("t, expect 2", domain="special.test", gateway="pphosted.com")]


def test_empty_columns_take_the_tables_values_and_filled_ones_keep_theirs(tmp_path):
    path = tmp_path / "domains.csv"
    path.write_text("domain,client,cloud,phase,gateway\n"
                    "a.test,Acme,,,\n"
                    "b.test,acme,worldwide,cloud,iphmx.com\n"
                    "special.test,Acme,,,\n"
                    "c.test,Other,,,\n", encoding="utf-8")
    defaults = partial(input_defaults, TABLES)
    entries = {e.domain: e for e in read_input(path, defaults=defaults).entries}
    assert (entries["a.test"].cloud, entries["a.test"].phase, entries["a.test"].gateway) == (
        Cloud.GCC_HIGH, Phase.HYBRID, "mimecast.com")
    assert (entries["b.test"].cloud, entries["b.test"].phase, entries["b.test"].gateway) == (
        Cloud.WORLDWIDE, Phase.CLOUD, "iphmx.com")
    assert (entries["special.test"].cloud, entries["special.test"].gateway) == (Cloud.GCC_HIGH, "pphosted.com")
    assert (entries["c.test"].cloud, entries["c.test"].phase, entries["c.test"].gateway) == (
        Cloud.WORLDWIDE, Phase.CLOUD, "")
    without = {e.domain: e for e in read_input(path).entries}
    assert without["a.test"].cloud is Cloud.WORLDWIDE and without["a.test"].gateway == ""
