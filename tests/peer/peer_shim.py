"""pytest plugin for tests/peer/run.py: the driver under test and the server to use.

``PGWIRE_PEER_DRIVER=pgwire`` makes ``import asyncpg`` return pgwire
(:func:`pgwire.install_as_asyncpg`) and loads asyncpg's test helpers
(``asyncpg._testbase``, ``asyncpg.cluster``) from the extracted sdist
(``PGWIRE_PEER_SDIST``); ``asyncpg`` leaves the real asyncpg in place.

Either way asyncpg's test base is pointed at the server run.py started: with
``PGHOST`` set it uses ``cluster.RunningCluster``, which is replaced here by a
subclass that knows the server's version and data directory, so the tests that
edit ``pg_hba.conf`` and reload the server run as they do on asyncpg's own
temporary cluster.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path
from types import ModuleType


def _load(name: str, path: Path, package: bool = False) -> ModuleType:
    location = path / "__init__.py" if package else path
    spec = importlib.util.spec_from_file_location(
        name, location, submodule_search_locations=[str(path)] if package else None
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _create_record(mapping: dict[str, int] | None, values: tuple[object, ...]) -> object:
    """asyncpg's private ``_create_record(name->index mapping, values)`` over pgwire's Record.

    test_record.py builds its records with it; the adapter lets those tests
    exercise pgwire's Record.
    """
    from pgwire._impl import Record, RecordDescriptor, make_record

    by_index = {index: name for name, index in (mapping or {}).items()}
    names = [by_index.get(i, f"?column{i}?") for i in range(len(values))]
    return make_record(Record, RecordDescriptor(names), tuple(values))


def _install_pgwire(sdist: Path) -> None:
    import pgwire

    pgwire.install_as_asyncpg()
    private = ModuleType("asyncpg.protocol.protocol")
    private._create_record = _create_record  # type: ignore[attr-defined]
    sys.modules["asyncpg.protocol.protocol"] = private
    # asyncpg's test helpers are not part of its API: they come from the sdist.
    cluster = _load("asyncpg.cluster", sdist / "asyncpg" / "cluster.py")
    pgwire.cluster = cluster  # type: ignore[attr-defined]
    testbase = _load("asyncpg._testbase", sdist / "asyncpg" / "_testbase", package=True)
    pgwire._testbase = testbase  # type: ignore[attr-defined]
    # The test base's tearDown awaits each pool's private maintenance task;
    # pgwire's pools have none to wait for.
    from pgwire.pool import Pool

    if not hasattr(Pool, "_maintenance_task"):
        Pool._maintenance_task = None  # type: ignore[attr-defined]


def _patch_cluster() -> None:
    from asyncpg import cluster, serverversion

    base = cluster.Cluster

    class PeerCluster(cluster.RunningCluster):  # type: ignore[misc,name-defined]
        """The server run.py started, with HBA editing and reload."""

        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self._data_dir = os.environ["PGWIRE_PEER_DATADIR"]
            self._pg_version = serverversion.split_server_version_string(
                os.environ["PGWIRE_PEER_SERVER_VERSION"]
            )

        def get_pg_version(self):  # type: ignore[no-untyped-def]
            return self._pg_version

        def get_data_dir(self) -> str:
            return self._data_dir

        def reset_hba(self) -> None:
            base.reset_hba(self)

        def add_hba_entry(self, **kwargs: object) -> None:
            base.add_hba_entry(self, **kwargs)

        def reload(self) -> None:
            with open(os.path.join(self._data_dir, "postmaster.pid")) as pidfile:
                os.kill(int(pidfile.readline()), signal.SIGHUP)

    cluster.RunningCluster = PeerCluster


def pytest_configure(config: object) -> None:
    if os.environ.get("PGWIRE_PEER_DRIVER") == "pgwire":
        _install_pgwire(Path(os.environ["PGWIRE_PEER_SDIST"]))
    _patch_cluster()
