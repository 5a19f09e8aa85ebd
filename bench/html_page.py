#!/usr/bin/env python3
"""Benchmark report.html at 10,000 domains: its size, how fast Chromium loads it, how fast it filters.

    python bench/html_page.py                    # 10,000 domains
    python bench/html_page.py --domains 2000 --keep /tmp/page

No DNS audit: the results are made from the golden results of the check cases
(tests/checks/golden_results.json), each case copied under new domain names in a mix like
an MSP's list (most domains Microsoft 365 by the book, some with warnings, a fifth broken
in one of the cases' many ways, a few on which nothing could be tested), split over 40
clients. The page is written by the real writer, the way ``dnsaudit audit`` writes it, and
opened from disk in Debian's headless Chromium through Playwright:

* size: the file, in MB (target: at most 15);
* load: navigation start to the load event, then to the first frame after it (target: < 5 s);
* filter: for each keystroke of a search typed into the search box (and a verdict chosen),
  the time from the input event to the next frame painted (target: < 300 ms each).

Each figure is the median of ``--repeat`` page loads (default 3); the worst keystroke is
reported too. Results vary with the machine's load: record them with the date in
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "checks" / "golden_results.json"
CHROMIUM = "/usr/bin/chromium"
# case -> weight in the mix (the rest of the cases share REST between them)
MIX = {"good.test": 55, "token.test": 6, "extra.test": 4, "dmarc-none.test": 6, "gcch.test": 3, "hybrid.test": 3,
       "premig.test": 3}
REST = 20
TYPED = "d0123"  # a search as people type it: one keystroke after the other


def synthetic_run(count: int, seed: int = 7):
    """An AuditRun of ``count`` domains made from the golden case results."""
    from dnsaudit import results_read
    from dnsaudit.model import AuditRun, RunInfo
    from dnsaudit.registry import load_checks

    cases = {d["input"]["domain"]: d for d in json.loads(GOLDEN.read_text(encoding="utf-8"))}
    others = [name for name in cases if name not in MIX]
    names = list(MIX) + others
    weights = list(MIX.values()) + [REST / len(others)] * len(others)
    rng = random.Random(seed)
    domains = []
    for i, case in enumerate(rng.choices(names, weights, k=count)):
        template = cases[case]
        new = f"d{i:05d}-{case.split('.')[0]}.bench.example"
        data = json.loads(json.dumps(template).replace(case, new))
        data["input"].update(client=f"Client {i % 40:02d}", notes=f"row {i + 2}", row=i + 2)
        domains.append(results_read.domain_from_dict(data))
    loaded = load_checks()
    checks = tuple(loaded.info(c) for c in loaded.checks)
    info = RunInfo(tool_version="bench", started="2026-12-02T00:00:00+00:00", finished="2026-12-02T00:01:00+00:00",
                   input_file="domains.csv", nameservers=("127.0.0.1",), checks=checks)
    return AuditRun(info, tuple(domains))


def write_page(run, folder: Path) -> tuple[Path, float]:
    from dnsaudit.reports.html import HtmlReport
    from dnsaudit.reports.scope import run_for_people

    started = time.perf_counter()
    path = HtmlReport().write(run_for_people(run), folder, "Microsoft 365 mail readiness")
    return path, time.perf_counter() - started


FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
KEYSTROKE = """async ([text, verdict]) => {
  const search = document.getElementById('search');
  const start = performance.now();
  if (verdict !== null) {
    const select = document.getElementById('verdict-filter');
    select.value = verdict;
    select.dispatchEvent(new Event('change'));
  } else {
    search.value = text;
    search.dispatchEvent(new Event('input'));
  }
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  return [performance.now() - start, document.getElementById('shown').textContent];
}"""


def measure(page_path: Path, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    loads, keystrokes, shown = [], [], ""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for _ in range(repeat):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(page_path.as_uri(), wait_until="load", timeout=120_000)
            page.evaluate(FRAME)
            timing = page.evaluate("() => [performance.timing.navigationStart, performance.timing.loadEventEnd,"
                                   " Date.now()]")
            loads.append((timing[2] - timing[0]) / 1000)
            times = []
            for n in range(1, len(TYPED) + 1):
                elapsed, shown = page.evaluate(KEYSTROKE, [TYPED[:n], None])
                times.append(elapsed)
            elapsed, _ = page.evaluate(KEYSTROKE, ["", None])  # the search cleared
            times.append(elapsed)
            elapsed, _ = page.evaluate(KEYSTROKE, ["", "blocked"])
            times.append(elapsed)
            keystrokes.append(times)
            context.close()
        browser.close()
    per_key = [statistics.median(k[i] for k in keystrokes) for i in range(len(keystrokes[0]))]
    return {"load_s": statistics.median(loads), "loads_s": loads, "keystroke_ms": per_key,
            "worst_keystroke_ms": max(max(k) for k in keystrokes), "last_shown": shown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="page loads to take the median of (default 3)")
    parser.add_argument("--keep", type=Path, help="write the page into this folder and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dnsaudit-html-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    run = synthetic_run(args.domains)
    made = time.perf_counter() - started
    path, written = write_page(run, folder)
    size = path.stat().st_size
    figures = measure(path, args.repeat)
    print(f"{args.domains:,} domains: results made in {made:.1f} s, page written in {written:.1f} s")
    print(f"size   {size / 1e6:.1f} MB ({size / args.domains:,.0f} bytes per domain; target <= 15 MB)")
    print(f"load   {figures['load_s']:.2f} s median of {', '.join(f'{s:.2f}' for s in figures['loads_s'])} "
          "(target < 5 s)")
    keys = ", ".join(f"{ms:.0f}" for ms in figures["keystroke_ms"])
    print(f"filter {keys} ms per keystroke of {TYPED!r}, clearing it, choosing 'blocked' (medians); worst "
          f"{figures['worst_keystroke_ms']:.0f} ms (target < 300 ms); after {TYPED!r}: {figures['last_shown']}")
    ok = size <= 15e6 and figures["load_s"] < 5 and figures["worst_keystroke_ms"] < 300
    if not args.keep:
        path.unlink()
        folder.rmdir()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
