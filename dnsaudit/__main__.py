"""``python -m dnsaudit`` and the ``dnsaudit`` command run the command line."""

import sys


def run() -> int:
    """The command's entry point: ``dnsaudit.cli.main``, and Ctrl-C while it loads (imports
    take a while on a loaded machine) is the same one line and 130 as at any later moment,
    even one that Python swallowed in an import's clean-up (``dnsaudit.sigint``)."""
    from dnsaudit.sigint import lost, unwrapping, watching

    with watching():
        try:
            with unwrapping():
                from dnsaudit.cli import main
        except KeyboardInterrupt:
            print("dnsaudit: interrupted", file=sys.stderr)
            exec("")  # this interrupt was handled (see dnsaudit.cli.exits.interrupted)
            return 130
        code = main()
        if lost():  # swallowed by Python after the last point that acts on it (dnsaudit.sigint)
            print("dnsaudit: Ctrl-C came as the command was finishing; it finished (the exit code is its own)",
                  file=sys.stderr)
        return code


if __name__ == "__main__":  # not when a worker process imports this module (multiprocessing spawn)
    sys.exit(run())
