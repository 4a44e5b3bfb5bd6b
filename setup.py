"""Build script for the optional compiled extension (``pgwire._speedups``).

Everything declarative lives in ``pyproject.toml``; this file only adds the
Cython modules. The extension is optional: when Cython or a C compiler is
missing, or compiling fails, the pure-Python package is installed and
``pgwire._impl`` falls back to it (and says so with a ``RuntimeWarning`` at
import: pip shows a build's own output only with ``-v``).

Environment:

* ``PGWIRE_REQUIRE_COMPILED=1``: a failure to build the extension is a build
  error (CI and the wheel builds set it).
* ``PGWIRE_PURE_PYTHON=1``: build no extension at all; the wheel is then the
  pure-Python ``py3-none-any`` fallback wheel.

Cython writes the generated C under ``build/cython``, never next to the
``.pyx`` sources, so neither the sdist nor the wheel can pick it up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
SPEEDUPS = Path("src", "pgwire", "_speedups")
REQUIRE = os.environ.get("PGWIRE_REQUIRE_COMPILED", "") not in ("", "0")
PURE = os.environ.get("PGWIRE_PURE_PYTHON", "") not in ("", "0")


def _warn(message: str) -> None:
    print(f"pgwire: {message}; installing the pure-Python implementation only", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """``build_ext`` that degrades to a pure-Python install unless compiling is required."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            if REQUIRE:
                raise
            _warn(f"cannot build the compiled extension ({exc})")

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            if REQUIRE:
                raise
            _warn(f"cannot build {ext.name} ({exc})")


def _extensions() -> list[Any]:
    if PURE:
        if REQUIRE:
            raise SystemExit("PGWIRE_PURE_PYTHON and PGWIRE_REQUIRE_COMPILED contradict each other")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE:
            raise
        _warn("Cython is not installed")
        return []
    sources = sorted(str(p.relative_to(HERE)) for p in (HERE / SPEEDUPS).glob("*.pyx"))
    try:
        return list(
            cythonize(
                sources,
                build_dir=str(Path("build", "cython")),
                compiler_directives={
                    "language_level": "3",
                    "boundscheck": False,
                    "wraparound": False,
                    "cdivision": True,
                    "embedsignature": True,
                },
                quiet=True,
            )
        )
    except Exception as exc:
        if REQUIRE:
            raise
        _warn(f"cythonize failed ({exc})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
