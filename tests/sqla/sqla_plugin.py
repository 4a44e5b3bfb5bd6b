"""Loads SQLAlchemy's pytest plugin (with ``-p sqla_plugin``, see README.md).

It is not a ``conftest.py`` so that the default test run never loads it.
"""

import pytest

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402, F403
