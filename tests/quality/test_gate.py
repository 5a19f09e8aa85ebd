"""The quality gate, as tests so that the one test command runs it: ruff on the tree,
``mypy --strict`` on the package and the checks (but a shrinking list of modules not yet
typed), and the import graph (no cycle, no upward import).

The layers, top to bottom (an arrow may only point down, or sideways inside a layer):

    app       dnsaudit.cli, __main__, pipeline, output, workers, progress, notify
    plugins   dnsaudit.checks.*  dnsaudit.reports.*      (checks never import each other)
    testing   dnsaudit.testing                           (the plugin author's helpers)
    core      everything else in dnsaudit: check API, model, runner, registry, scoring, ...
    mail/net  dnsaudit.mail, dnsaudit.net                (never the check API)
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"dnsaudit": "dnsaudit", "checks": "dnsaudit.checks", "reports": "dnsaudit.reports"}
APP = ("dnsaudit.cli", "dnsaudit.__main__", "dnsaudit.pipeline", "dnsaudit.preflight", "dnsaudit.run_history",
       "dnsaudit.output", "dnsaudit.workers",
       "dnsaudit.progress", "dnsaudit.notify")  # dnsaudit.config is plain values: core
PLUGINS = ("dnsaudit.checks", "dnsaudit.reports")
CHECK_API = ("dnsaudit.check", "dnsaudit.runner", "dnsaudit.registry")
# mypy --strict covers the package, the built-in checks and the example plugin (what a plugin
# author programs against is in it: check.py, model.py, net/protocols.py, testing/).
# reports/base.py is the writer plugins' API; the built-in writers beside it import it as
# dnsaudit.reports.base, which mypy cannot map to the reports/ folder (they see it as Any).
STRICT = ["dnsaudit", "checks", "reports/base.py", "tests/plugin_example"]
# Not yet typed to --strict, each to leave this list when its errors are fixed (a module that
# passes must not stay here: test_the_not_yet_strict_list_only_holds_modules_that_fail).
NOT_YET_STRICT = ["dnsaudit/output.py", "dnsaudit/workers.py"]


def _mypy_args(paths: list[str], leave_out: list[str]) -> list[str]:
    excludes = [f"^{re.escape(p)}" + ("" if p.endswith("/") else "$") for p in leave_out]
    return [_tool("mypy"), *(a for e in excludes for a in ("--exclude", e)), *paths]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed (it is in the test extra of pyproject.toml)"
    return found


def test_ruff_finds_nothing_on_the_tree():
    proc = subprocess.run([_tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_the_package_the_checks_and_the_example_plugin():
    proc = subprocess.run(_mypy_args(STRICT, NOT_YET_STRICT), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checked = re.search(r"in (\d+) source files", proc.stdout)
    assert checked and int(checked.group(1)) > 60, proc.stdout  # the exclusions did not swallow the tree


def test_the_not_yet_strict_list_only_holds_modules_that_fail():
    """Typing one of them to --strict takes it off the list: the exclusions shrink, never go stale."""
    proc = subprocess.run([_tool("mypy"), *[p.rstrip("/") for p in NOT_YET_STRICT]], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    failing = {line.split(":")[0] for line in proc.stdout.splitlines() if ": error:" in line}
    stale = [p for p in NOT_YET_STRICT if not any(f == p or f.startswith(p) for f in failing)]
    assert not stale, f"these pass mypy --strict now: take them off NOT_YET_STRICT: {stale}"


def test_mypy_catches_a_misspelt_finding_field(tmp_path):
    """The gate above can fail: a plugin's ``remedation=`` is a type error for mypy --strict."""
    plugin = tmp_path / "typo_check.py"
    plugin.write_text('''from dnsaudit.check import Check, CheckContext
from dnsaudit.model import Finding


class Typo(Check):
    """A check with a misspelt field."""

    id = "typo.check"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        return [self.fail("broken", remedation="publish it")]
''', encoding="utf-8")
    proc = subprocess.run([_tool("mypy"), "--strict", "--follow-imports=silent", str(plugin)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and 'Unexpected keyword argument "remedation"' in proc.stdout, proc.stdout


# -- the import graph -----------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported dnsaudit module
    line: int
    at_run_time: bool  # runs at all: at import time or inside a function, not for the type checker only


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def _imports(modules: dict[str, Path]) -> list[Import]:
    edges = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only: set[int] = set()  # ids of import nodes inside TYPE_CHECKING blocks
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only.update(id(n) for n in ast.walk(node))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                # The graph reads absolute names only: a relative import is an edge it cannot place.
                edges.append(Import(name, "." * node.level + (node.module or ""), node.lineno, True))
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                # "from dnsaudit.mail import spf" imports the module dnsaudit.mail.spf
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            for target in dict.fromkeys(targets):
                if target in modules and target != name:
                    edges.append(Import(name, target, node.lineno, id(node) not in typing_only))
    return edges


MODULES = _modules()
IMPORTS = _imports(MODULES)


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _where(edge: Import) -> str:
    return f"{MODULES[edge.source].relative_to(ROOT)}:{edge.line}: {edge.source} imports {edge.target}"


def test_no_relative_import():
    """The graph names modules by their absolute names: a relative import would be an edge
    that neither the cycle test nor the layer rules could see, so there is none."""
    relative = [_where(e) for e in IMPORTS if e.target.startswith(".")]
    assert not relative, "write these imports absolute:\n" + "\n".join(relative)


def test_the_graph_sees_deferred_and_relative_imports(tmp_path):
    """An import inside a function runs (it counts), one under TYPE_CHECKING never does, and a
    relative one is seen: the tests above can fail."""
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n"
                                   "def f():\n    import b\n    from . import b\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("", encoding="utf-8")
    edges = _imports({"a": tmp_path / "a.py", "b": tmp_path / "b.py"})
    assert [(e.target, e.line, e.at_run_time) for e in edges] == [("b", 3, False), ("b", 5, True), (".", 6, True)]


def test_the_graph_sees_the_tree():
    """The checks below read every module: a layout change must not leave them reading nothing."""
    assert {"dnsaudit.check", "dnsaudit.checks.mx", "dnsaudit.reports.base", "dnsaudit.mail.spf",
            "dnsaudit.net.dns"} <= set(MODULES)
    assert any(e.source == "dnsaudit.checks.mx" and e.target == "dnsaudit.mail.mx" for e in IMPORTS)


def test_no_import_cycle():
    """No two modules import each other, directly or around a circle, when they are loaded or
    later: an import inside a function only hides a cycle (it runs at the first call). An import
    for the type checker only (``if TYPE_CHECKING:``) never runs, so it does not count."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for edge in IMPORTS:
        if edge.at_run_time:
            graph[edge.source].add(edge.target)
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_detection_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _core(source: str, target: str) -> bool:
    if _in(source, APP + PLUGINS + ("dnsaudit.testing",)):
        return True
    return not _in(target, APP + PLUGINS + ("dnsaudit.testing",))


def _checks(source: str, target: str) -> bool:
    if not _in(source, ("dnsaudit.checks",)):
        return True
    other_check = _in(target, ("dnsaudit.checks",)) and target != "dnsaudit.checks"
    return not other_check and not _in(target, APP + ("dnsaudit.reports", "dnsaudit.testing", "dnsaudit.inputs",
                                                      "dnsaudit.registry", "dnsaudit.runner"))


def _reports(source: str, target: str) -> bool:
    return not _in(source, ("dnsaudit.reports",)) or not _in(target, APP + ("dnsaudit.checks", "dnsaudit.testing"))


def _mail_net(source: str, target: str) -> bool:
    if not _in(source, ("dnsaudit.mail", "dnsaudit.net")):
        return True
    return not _in(target, CHECK_API + APP + PLUGINS + ("dnsaudit.testing",))


def _testing(source: str, target: str) -> bool:
    return not _in(source, ("dnsaudit.testing",)) or not _in(target, APP + PLUGINS)


RULES = {"core": _core, "checks": _checks, "reports": _reports, "mail_net": _mail_net, "testing": _testing}
# One import each rule must refuse (what the tree held before issue 12), and one it allows.
REFUSED = {"core": ("dnsaudit.runner", "dnsaudit.checks.domain"), "checks": ("dnsaudit.checks.tls", "dnsaudit.checks.mx"),
           "reports": ("dnsaudit.reports.html", "dnsaudit.cli"), "mail_net": ("dnsaudit.mail.spf_tree", "dnsaudit.check"),
           "testing": ("dnsaudit.testing.run", "dnsaudit.output")}
ALLOWED = {"core": ("dnsaudit.runner", "dnsaudit.check"), "checks": ("dnsaudit.checks.tls", "dnsaudit.mail.mx"),
           "reports": ("dnsaudit.reports.html", "dnsaudit.model"), "mail_net": ("dnsaudit.mail.spf", "dnsaudit.net.dns"),
           "testing": ("dnsaudit.testing.run", "dnsaudit.runner")}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_no_upward_import(rule):
    """Every import, deferred ones included, points down the layers of the module docstring."""
    allowed = RULES[rule]
    assert not allowed(*REFUSED[rule]) and allowed(*ALLOWED[rule])  # the rule can fail
    problems = [_where(e) for e in IMPORTS if not allowed(e.source, e.target)]
    assert not problems, "\n".join(problems)


def test_the_code_cites_primary_sources_not_the_team_notes():
    """Comments and references name RFC sections and Microsoft's pages (issue 12 item 9): a
    file outside the repository (the team's M365-RULES.md) is no source for a reader."""
    cited = [f"{path.relative_to(ROOT)}" for folder in PACKAGES for path in (ROOT / folder).rglob("*.py")
             if "M365-RULES" in path.read_text(encoding="utf-8")]
    assert not cited, cited
    from dnsaudit.registry import load_checks

    for cls in load_checks().checks:
        assert any(r.startswith(("RFC ", "https://")) for r in cls.references), f"{cls.id} cites no primary source"
