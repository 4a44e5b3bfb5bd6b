"""``python -m pgwire``: the tour, or one of the commands of :mod:`pgwire.cli`.

Without arguments, or with only a DSN, it runs the tour (:mod:`pgwire.demo`);
``python -m pgwire demo|bench|copy|check ...`` runs that command, and
``python -m pgwire --version`` names the version and the active implementation.
"""

from pgwire.cli import main

raise SystemExit(main())
