"""``python -m dnsaudit`` runs the command line."""

import sys

from dnsaudit.cli import main

if __name__ == "__main__":  # not when a worker process imports this module (multiprocessing spawn)
    sys.exit(main())
