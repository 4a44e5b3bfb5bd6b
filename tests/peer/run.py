"""Run asyncpg's own test suite against pgwire (see README.md).

Fetches asyncpg's source distribution (pinned: ``ASYNCPG_VERSION``) with pip
into a cache directory outside the checkout (``$PGWIRE_PEER_CACHE``, default
``~/.cache/pgwire-peer``), extracts its ``tests/`` and test helpers, starts one
:class:`pgwire.testing.TempServer` and runs the tests with pytest three times:
against the real asyncpg (the baseline: what asyncpg itself passes here), and
against pgwire through ``pgwire.install_as_asyncpg()`` with
``PGWIRE_IMPL=python`` and ``PGWIRE_IMPL=compiled``.

Prints per-file pass/fail/skip counts for each run, the share of the baseline's
passing tests pgwire passes, and every difference from ``expected_failures.toml``
(the reviewed list of tests pgwire does not or should not pass, with the reason).
Exits 1 on an unexpected failure or an unexpected pass.

Options: ``--impl python|compiled|both`` (default both), ``--no-baseline``
(reuse the last baseline report in the cache), ``--markdown`` (print the table
in Markdown, as docs/coming-from-asyncpg.md shows it); anything after ``--``
goes to pytest (``-k``, a narrower file list: ``tests/test_codecs.py``...).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

import tomllib

ASYNCPG_VERSION = "0.32.0"
HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_failures.toml"
#: Per-test timeout (seconds): a hang becomes a failure instead of stopping the run.
TEST_TIMEOUT = 120

PYTEST_INI = """\
[pytest]
addopts = -p no:cacheprovider -p no:asyncio -p peer_shim
python_files = test_*.py
"""


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "pgwire-peer"
    return Path(os.environ.get("PGWIRE_PEER_CACHE", default)).resolve()


def fetch_sdist(cache: Path) -> Path:
    """The extracted sdist directory, downloading the archive on first use."""
    name = f"asyncpg-{ASYNCPG_VERSION}"
    tree = cache / name
    if (tree / "tests").is_dir():
        return tree
    archive = cache / f"{name}.tar.gz"
    if not archive.exists():
        cache.mkdir(parents=True, exist_ok=True)
        # --no-binary asyncpg (not :all:): the sdist of asyncpg itself, while
        # the build tools pip needs to read its metadata may come as wheels.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                "asyncpg",
                f"asyncpg=={ASYNCPG_VERSION}",
                "--dest",
                str(cache),
            ],
            check=True,
        )
    wanted = (f"{name}/tests/", f"{name}/asyncpg/_testbase/", f"{name}/asyncpg/cluster.py")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(wanted)]
        tar.extractall(cache, members=members, filter="data")
    return tree


def baseline_path(cache: Path) -> str | None:
    """A PYTHONPATH entry that provides asyncpg ASYNCPG_VERSION (None: already importable)."""
    try:
        if importlib.metadata.version("asyncpg") == ASYNCPG_VERSION:
            return None
    except importlib.metadata.PackageNotFoundError:
        pass
    target = cache / f"site-asyncpg-{ASYNCPG_VERSION}"
    _pip_install_into(target, f"asyncpg=={ASYNCPG_VERSION}")
    return str(target)


#: What asyncpg's tests import beyond asyncpg and pytest (its ``test`` extra,
#: less the optional ones they skip without).
TEST_REQUIREMENTS = ("distro",)


def test_requirements_path(cache: Path) -> str:
    """A PYTHONPATH entry with TEST_REQUIREMENTS, installed there on first use."""
    target = cache / "site-test-requirements"
    _pip_install_into(target, *TEST_REQUIREMENTS)
    return str(target)


def _pip_install_into(target: Path, *requirements: str) -> None:
    """``pip install --target`` of ``requirements`` (no dependencies), once per target."""
    if not target.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
            + ["--target", str(target), *requirements],
            check=True,
        )


def run_suite(
    label: str, env_extra: dict[str, str], sdist: Path, cache: Path, pytest_args: list[str]
) -> Path:
    """Run the suite in a fresh copy of asyncpg's tests; returns the JUnit report."""
    workdir = cache / "runs" / label
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    shutil.copytree(sdist / "tests", workdir / "tests")
    (workdir / "pytest.ini").write_text(PYTEST_INI)
    report = workdir / "report.xml"
    env = dict(os.environ, **env_extra)
    paths = [
        str(HERE),
        env_extra.get("PYTHONPATH", ""),
        os.environ.get("PYTHONPATH", ""),
        test_requirements_path(cache),
    ]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-v",
        "--continue-on-collection-errors",
        "-p",
        "timeout",
        f"--timeout={TEST_TIMEOUT}",
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit1",
        *(pytest_args or ["tests"]),
    ]
    print(f"== {label}: {' '.join(command[3:])}", flush=True)
    with open(workdir / "pytest.log", "w") as log:
        subprocess.call(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"   log: {workdir / 'pytest.log'}", flush=True)
    return report


def read_report(report: Path) -> dict[str, str]:
    """test id (``file::Class::test``) -> ``pass``, ``fail`` or ``skip``."""
    outcomes: dict[str, str] = {}
    if not report.exists():
        return outcomes
    for case in ET.parse(report).getroot().iter("testcase"):
        classname = case.get("classname", "")
        if classname:
            module, _, cls = classname.rpartition(".")
            filename = module.rpartition(".")[2] + ".py"
            test_id = f"{filename}::{cls}::{case.get('name')}"
        else:  # the module failed to import: one entry for the whole file
            filename = str(case.get("name")).rpartition(".")[2] + ".py"
            test_id = f"{filename}::(import)"
        if case.find("skipped") is not None:
            outcome = "skip"
        elif case.find("failure") is not None or case.find("error") is not None:
            outcome = "fail"
        else:
            outcome = "pass"
        # a test that passed but errored in teardown appears twice: fail wins
        if outcomes.get(test_id) != "fail":
            outcomes[test_id] = outcome
    return outcomes


def load_expected() -> dict[str, str]:
    with open(EXPECTED, "rb") as f:
        data = tomllib.load(f)
    expected: dict[str, str] = {}
    for category, tests in data.items():
        for test_id, reason in tests.items():
            expected[test_id] = f"{category}: {reason}"
    return expected


def per_file(outcomes: dict[str, str]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for test_id, outcome in outcomes.items():
        counts[test_id.split("::")[0]][outcome] += 1
    return counts


def summarize(runs: dict[str, dict[str, str]], expected: dict[str, str], markdown: bool) -> int:
    labels = list(runs)
    baseline = runs.get("asyncpg", {})
    files = sorted({t.split("::")[0] for r in runs.values() for t in r})
    counts = {label: per_file(r) for label, r in runs.items()}

    def cell(label: str, name: str) -> str:
        c = counts[label].get(name, Counter())
        return f"{c['pass']}/{c['fail']}/{c['skip']}"

    header = ["file", *(f"{label} pass/fail/skip" for label in labels)]
    rows = [[name, *(cell(label, name) for label in labels)] for name in files]
    rows.append(["total", *(cell_total(counts[label]) for label in labels)])
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(col.ljust(w) for col, w in zip(row, widths, strict=True)))
    print()

    # "file::(import)" stands for every test of a file pgwire cannot import.
    for key, reason in list(expected.items()):
        if key.endswith("::(import)"):
            prefix = key[: -len("(import)")]
            expected.update({t: reason for t in baseline if t.startswith(prefix)})

    status = 0
    passing = {t for t, o in baseline.items() if o == "pass"}
    public = passing - set(expected)
    for label in labels:
        if label == "asyncpg":
            continue
        outcomes = runs[label]
        passed = {t for t in public if outcomes.get(t) == "pass"}
        all_passed = {t for t in passing if outcomes.get(t) == "pass"}
        share = 100.0 * len(passed) / len(public) if public else 0.0
        print(
            f"{label}: {len(passed)} of the {len(public)} public-behaviour tests asyncpg "
            f"passes ({share:.1f} %); {len(all_passed)} of all {len(passing)} it passes"
        )
        unexpected_fail = sorted(t for t in public if outcomes.get(t) not in ("pass", "skip"))
        unexpected_pass = sorted(t for t in expected if t in passing and outcomes.get(t) == "pass")
        for test_id in unexpected_fail:
            print(f"  unexpected failure: {test_id} ({outcomes.get(test_id, 'not run')})")
        for test_id in unexpected_pass:
            print(f"  unexpected pass: {test_id} (listed as {expected[test_id]})")
        if unexpected_fail or unexpected_pass:
            status = 1
    stale = sorted(t for t in expected if t not in baseline and not t.endswith("::(import)"))
    for test_id in stale:
        print(f"listed but not run by the baseline: {test_id}")
    return status


def cell_total(counts: dict[str, Counter[str]]) -> str:
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    return f"{total['pass']}/{total['fail']}/{total['skip']}"


def server_env(server: object) -> dict[str, str]:
    from pgwire.testing import TempServer

    assert isinstance(server, TempServer)
    return {
        "PGHOST": server.host,
        "PGPORT": str(server.port),
        "PGUSER": server.user,
        "PGDATABASE": server.database,
        "PGWIRE_PEER_DATADIR": str(server.datadir),
        "PGWIRE_PEER_SERVER_VERSION": server.version,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", choices=("python", "compiled", "both"), default="both")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)

    cache = cache_dir()
    sdist = fetch_sdist(cache)
    asyncpg_path = baseline_path(cache)
    impls = ["python", "compiled"] if args.impl == "both" else [args.impl]

    from pgwire.testing import TempServer

    reports: dict[str, Path] = {}
    # asyncpg's tests create roles, databases and extensions: a fresh server
    # per run keeps one run's leftovers out of the next.
    settings = {"max_connections": "200", "max_prepared_transactions": "10"}
    if not args.no_baseline:
        with TempServer(settings=settings) as server:
            env = server_env(server)
            env["PGWIRE_PEER_DRIVER"] = "asyncpg"
            if asyncpg_path:
                env["PYTHONPATH"] = asyncpg_path
            reports["asyncpg"] = run_suite("asyncpg", env, sdist, cache, args.pytest_args)
    else:
        reports["asyncpg"] = cache / "runs" / "asyncpg" / "report.xml"
    for impl in impls:
        label = f"pgwire-{impl}"
        with TempServer(settings=settings) as server:
            env = server_env(server)
            env.update(PGWIRE_PEER_DRIVER="pgwire", PGWIRE_PEER_SDIST=str(sdist))
            env["PGWIRE_IMPL"] = impl
            if impl == "compiled":
                env["PGWIRE_REQUIRE_COMPILED"] = "1"
            reports[label] = run_suite(label, env, sdist, cache, args.pytest_args)

    runs = {label: read_report(path) for label, path in reports.items()}
    return summarize(runs, load_expected(), args.markdown)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
