"""``dnsaudit checks``: every available check with its documentation."""

from __future__ import annotations

import argparse
import textwrap

from dnsaudit.cli.exits import EXIT_OK, EXIT_USAGE, err
from dnsaudit.markup import doc_text


def cmd_checks(args: argparse.Namespace) -> int:
    from dnsaudit.registry import PluginError, load_checks, select

    try:
        loaded = load_checks()
        chosen = select(loaded.checks, args.patterns, [])
    except PluginError as exc:
        err(str(exc))
        return EXIT_USAGE
    for warning in loaded.warnings:
        err(f"warning: {warning}")
    for cls in chosen:
        info = loaded.info(cls)
        print(f"{info.id:<24} {info.severity.value:<8} {info.title}")
        if not args.brief:
            print(textwrap.indent(doc_text(info.doc), "    "))
            if info.references:
                print(textwrap.indent("References: " + "; ".join(info.references), "    "))
            print()
    return EXIT_OK
