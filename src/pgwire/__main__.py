"""``python -m pgwire``: the tour (see :mod:`pgwire.demo`)."""

from pgwire.demo import main

raise SystemExit(main())
