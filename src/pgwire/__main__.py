"""``python -m pgwire``: the tour, or one of the commands of :mod:`pgwire.cli`.

Without arguments, or with only a DSN, it runs the tour (:mod:`pgwire.demo`);
``python -m pgwire demo|bench|copy|check ...`` runs that command.
"""

import sys

from pgwire.cli import COMMANDS, main

args = sys.argv[1:]
if not args or (args[0] not in COMMANDS and not args[0].startswith("-")):
    args = ["demo", *args]
raise SystemExit(main(args))
