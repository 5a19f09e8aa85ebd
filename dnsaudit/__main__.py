"""``python -m dnsaudit`` runs the command line."""

import sys

from dnsaudit.cli import main

sys.exit(main())
