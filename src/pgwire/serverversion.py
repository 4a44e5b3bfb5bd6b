"""Parsing of the ``server_version`` setting into a :class:`~pgwire.types.ServerVersion`."""

from __future__ import annotations

import re

from pgwire.types import ServerVersion

__all__ = ("split_server_version_string",)

# An optional product name ("PostgreSQL 9.4beta1 on ..."), then up to three
# dot-separated numbers, an optional release level ("beta", "rc", "devel")
# and its serial number.  Anything after that (distribution suffixes such as
# " (Debian 15.18-0+deb12u1)") is ignored.
_VERSION = re.compile(
    r"(?:Postgre\S*)?\s*"
    r"(?P<first>\d+)\.?"
    r"(?:(?P<second>\d+)\.?)?"
    r"(?P<third>\d+)?"
    r"(?P<releaselevel>[a-z]+)?"
    r"(?P<serial>\d+)?"
)


def split_server_version_string(version: str) -> ServerVersion:
    """Parse a server version string such as ``'15.18 (Debian 15.18-0+deb12u1)'``.

    Before PostgreSQL 10 a version is ``major.minor.micro`` (``'9.6.24'`` ->
    ``(9, 6, 24)``).  From 10 on it is ``major.micro`` and the minor number is
    reported as 0 (``'10.4'`` -> ``(10, 0, 4)``), so that ``version[:2]``
    comparisons keep working across bug-fix releases.  Pre-releases keep their
    level and serial (``'16beta2'`` -> ``(16, 0, 0, 'beta', 2)``); releases
    are ``'final'`` with serial 0.

    Raises ``ValueError`` when the string contains no version number.
    """
    match = _VERSION.search(version)
    if match is None:
        raise ValueError(f'Unable to parse Postgres version from "{version}"')
    first = int(match["first"])
    second = int(match["second"] or 0)
    third = int(match["third"] or 0)
    releaselevel = match["releaselevel"] or "final"
    serial = int(match["serial"] or 0)
    if first < 10:
        return ServerVersion(first, second, third, releaselevel, serial)
    return ServerVersion(first, 0, second, releaselevel, serial)
