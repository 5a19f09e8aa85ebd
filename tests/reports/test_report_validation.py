"""``dnsaudit report`` on a damaged results.json: validated against results.schema.json first, the
first violation named by its path, one line, exit 2; never a traceback.

Every field of the run, of a domain's input and score and of a result is replaced in turn
by a value of each other JSON type (the review's 1,584 single-field changes raised 245
tracebacks, e.g. ``run.settings = []``, ``run.nameservers = [null]``).
"""

from __future__ import annotations

import json

import pytest

from dnsaudit.cli import main

REPLACEMENTS = [None, [], {}, 5, "x", [None]]


def leaves(value, path=()):
    """(path, value) of every field under ``value`` (lists: their first element only)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), item
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0), value[0]
        yield from leaves(value[0], (*path, 0))


def replaced(data, path, new):
    copy = json.loads(json.dumps(data))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@pytest.fixture(scope="module")
def small_results(results_json) -> dict:
    data = json.loads(json.dumps(results_json))
    data["domains"] = [d for d in data["domains"] if d["results"]][:1]
    data["domains"][0]["results"] = data["domains"][0]["results"][:1]
    return data


def test_every_single_field_type_change_is_one_line_never_a_traceback(small_results, tmp_path, capsys):
    source = tmp_path / "results.json"
    paths = [p for p, _ in leaves(small_results) if p[0] in ("run", "domains") and "settings" not in p[1:2]]
    paths.append(("run", "settings"))
    tried = refused = 0
    for path in paths:
        original = dict(leaves(small_results))[path]
        for new in REPLACEMENTS:
            if type(new) is type(original) and new == original:
                continue
            source.write_text(json.dumps(replaced(small_results, path, new)), encoding="utf-8")
            out = tmp_path / f"out{tried}"
            code = main(["report", str(source), "--out", str(out), "--format", "json"])
            err = capsys.readouterr().err
            tried += 1
            assert code in (0, 2), (path, new, err)
            if code == 2:
                refused += 1
                assert len(err.strip().splitlines()) == 1, (path, new, err)
                assert "results.json" in err
    assert tried > 300 and refused > tried // 2


@pytest.mark.parametrize(("path", "value", "named"), [(("run", "settings"), [], "run.settings"),
                                                      (("run", "nameservers"), [None], "run.nameservers[0]"),
                                                      (("domains", 0, "score"), "x", "domains[0].score")])
def test_the_first_violation_is_named_by_its_path(small_results, tmp_path, capsys, path, value, named):
    source = tmp_path / "results.json"
    source.write_text(json.dumps(replaced(small_results, path, value)), encoding="utf-8")
    assert main(["report", str(source), "--out", str(tmp_path / "out")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.count("\n") == 0 and f"at {named}:" in line, line
