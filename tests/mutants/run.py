"""Mutation check: does the suite catch a deliberate bug in each key behaviour?

Each entry of :data:`MUTATIONS` is a named, targeted bug: a snippet of one
source file replaced by a wrong one, and the test selection that must fail
because of it. For each mutation the repository is copied to a temporary
directory, the snippet is replaced there (the compiled extension is rebuilt
in the copy when the file is a ``.pyx``), and the selection runs with
``PGWIRE_IMPL=python`` and ``PGWIRE_IMPL=compiled``. A mutation is *killed*
when the selection fails, *survived* when it passes. Mutations of one twin
only (a pure-Python codec, a Cython one) run with the implementation that
uses that code; the other column shows ``-``.

    python tests/mutants/run.py                 # every mutation, both implementations
    python tests/mutants/run.py --list          # names and what each breaks
    python tests/mutants/run.py ordering-prepare cancel-no-fence
    python tests/mutants/run.py --impl python
    python tests/mutants/run.py --mutmut codecs # mutmut over the codec modules

Before mutating, every selection is run once on the unmodified copy (it must
pass, or "killed" would mean nothing). Exits 1 when a mutation survived or a
baseline failed. See ``tests/mutants/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPLS = ("python", "compiled")

#: Copied into the temporary tree besides the sources (build/ keeps Cython's output
#: so a rebuild compiles only the mutated module).
IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "mutants",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.egg-info",
    "dist",
    "site",
    "docs",
)


@dataclass(frozen=True)
class Mutation:
    name: str
    behaviour: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    impls: tuple[str, ...] = IMPLS


PIPE = "tests/integration/test_pipelining_safety.py"
TORTURE = "tests/integration/test_torture.py"
STORM = "tests/integration/test_cancel_storm.py"
TIMEOUTS = "tests/integration/test_timeouts.py"
TXN = "tests/integration/test_transaction.py"
POOL = "tests/integration/test_pool.py"
ROUNDTRIP = "tests/integration/test_types_roundtrip.py"
COPY_IN = "tests/integration/test_copy_in.py"
NUMERIC = "tests/unit/test_codecs_numeric.py"
DATETIME = "tests/unit/test_codecs_datetime.py"
PARITY = "tests/unit/test_impl_parity.py"

MUTATIONS: tuple[Mutation, ...] = (
    # ------------------------------------------------------------ ordering
    Mutation(
        "ordering-prepare",
        "a statement on first use gives up its place in line while it is prepared",
        "src/pgwire/connection.py",
        "        ctx.holds += 1\n        try:\n            await ctx.take_turn()",
        "        try:\n            await ctx.take_turn()",
        (PIPE, TORTURE),
    ),
    Mutation(
        "ordering-delay-bind",
        "20 ms pause between a first-use statement's Prepare and its Bind, line not held",
        "src/pgwire/connection.py",
        "            op = await ctx.run(PrepareOperation(name, query))\n",
        "            op = await ctx.run(PrepareOperation(name, query))\n"
        "            ctx.conn._order.leave(ctx)\n"
        "            ctx._in_line = False\n"
        "            await asyncio.sleep(0.02)\n",
        (PIPE, TORTURE),
    ),
    # ------------------------------------------------------------ no double execution
    Mutation(
        "resend-after-cancel",
        "a statement failed by QueryCanceledError is sent again",
        "src/pgwire/connection.py",
        "                    and self._is_stale_statement(exc, st)\n"
        "                    and ctx.may_rewrite()\n",
        "                    and (\n"
        "                        isinstance(exc, exceptions.QueryCanceledError)\n"
        "                        or (self._is_stale_statement(exc, st) and ctx.may_rewrite())\n"
        "                    )\n",
        (PIPE, TORTURE),
    ),
    Mutation(
        "resend-stale-anyway",
        "a stale cached statement is retried even after others were written behind it",
        "src/pgwire/connection.py",
        "        if conn._written != self._written_mark or conn._order.fenced or conn._closed:\n"
        "            return False\n",
        "        if conn._closed:\n            return False\n",
        (PIPE, "tests/integration/test_prepared.py"),
    ),
    # ------------------------------------------------------------ cancel targeting
    Mutation(
        "cancel-live-neighbour",
        "a CancelRequest is sent while a live operation is on the wire",
        "src/pgwire/connection.py",
        "                return  # someone still waits for it: "
        "let the abandoned one finish instead",
        "                break",
        (PIPE, STORM, TORTURE, TIMEOUTS),
    ),
    Mutation(
        "cancel-no-fence",
        "no fence while a CancelRequest is on its way: new operations are written meanwhile",
        "src/pgwire/gate.py",
        "    def raise_fence(self) -> None:\n        self._fences += 1\n",
        "    def raise_fence(self) -> None:\n        self._fences += 0\n",
        (PIPE, STORM, TORTURE, TIMEOUTS),
    ),
    # ------------------------------------------------------------ transactions
    Mutation(
        "savepoint-release-on-exception",
        "a nested block left by a Python exception (not a server error) RELEASEs its savepoint",
        "src/pgwire/transaction.py",
        "            if exc_type is not None:\n                await self._rollback()\n",
        "            if exc_type is not None:\n"
        "                python_error = not issubclass(exc_type, exceptions.PostgresError)\n"
        "                end = self._commit if self._nested and python_error else self._rollback\n"
        "                await end()\n",
        (TXN,),
    ),
    Mutation(
        "transaction-commit-on-exception",
        "an outer block left by a Python exception commits",
        "src/pgwire/transaction.py",
        "            if exc_type is not None:\n                await self._rollback()\n",
        "            if exc_type is not None:\n"
        "                await (self._rollback() if self._nested else self._commit())\n",
        (TXN,),
    ),
    # ------------------------------------------------------------ pool reset
    Mutation(
        "pool-skip-reset",
        "the pool never resets a released connection",
        "src/pgwire/pool.py",
        "            elif needs_reset(con, holder.baseline, holder.dirty):",
        "            elif False:",
        (POOL,),
    ),
    Mutation(
        "pool-reconnect-for-reset",
        "the pool replaces a dirty connection by a new one instead of resetting it",
        "src/pgwire/pool.py",
        "                await self._default_reset(holder, timeout)\n",
        "                self._discard(holder)\n                return\n",
        (POOL,),
    ),
    Mutation(
        "pool-ignore-parameter-status",
        "the pool ignores ParameterStatus changes when deciding on a reset",
        "src/pgwire/pool_session.py",
        "        or conn._core.parameters != baseline\n",
        "",
        (POOL,),
    ),
    Mutation(
        "pool-discard-leaks",
        "a connection the pool discards at once is forgotten but left open",
        "src/pgwire/pool.py",
        "        else:\n            con.terminate()\n        self._slot_freed()\n",
        "        self._slot_freed()\n",
        (POOL, "tests/integration/test_pool_faults.py"),
    ),
    # ------------------------------------------------------------ codecs, pure Python
    Mutation(
        "py-int8-unsigned",
        "int8 decoded as unsigned (pure codec)",
        "src/pgwire/codecs/numeric.py",
        "    return _int8.unpack(data)[0]  # type: ignore[no-any-return]",
        "    return _uint8.unpack(data)[0]  # type: ignore[no-any-return]",
        (NUMERIC, ROUNDTRIP, PARITY),
        ("python",),
    ),
    Mutation(
        "py-numeric-fraction-padding",
        "numeric fraction padded to the wrong digit group (pure codec)",
        "src/pgwire/codecs/numeric.py",
        '        frac_part += "0" * (-len(frac_part) % 4)',
        '        frac_part += "0" * (len(frac_part) % 4)',
        (NUMERIC, ROUNDTRIP, PARITY),
        ("python",),
    ),
    Mutation(
        "py-numeric-drop-sign",
        "negative numeric decoded as positive (pure codec)",
        "src/pgwire/codecs/numeric.py",
        "    return Decimal(f\"{'-' if sign == _NEG else ''}{text}E-{dscale}\")",
        '    return Decimal(f"{text}E-{dscale}")',
        (NUMERIC, ROUNDTRIP, PARITY),
        ("python",),
    ),
    Mutation(
        "py-timestamp-millis",
        "timestamp decoded to milliseconds only (pure codec)",
        "src/pgwire/codecs/datetime.py",
        "    return _EPOCH + timedelta(microseconds=micros)\n",
        "    return _EPOCH + timedelta(microseconds=micros // 1000 * 1000)\n",
        (DATETIME, ROUNDTRIP, PARITY),
        ("python",),
    ),
    # ------------------------------------------------------------ codecs, Cython
    Mutation(
        "cy-int8-unsigned",
        "int8 decoded without its sign bit (compiled codec)",
        "src/pgwire/_speedups/codecs.pyx",
        "    if code == C_INT8 and n == 8:\n        return <int64_t>_u64(p)\n",
        "    if code == C_INT8 and n == 8:\n"
        "        return <int64_t>(_u64(p) & 0x7FFFFFFFFFFFFFFF)\n",
        (NUMERIC, ROUNDTRIP, PARITY),
        ("compiled",),
    ),
    Mutation(
        "cy-numeric-drop-sign",
        "negative numeric decoded as positive (compiled codec)",
        "src/pgwire/_speedups/codecs.pyx",
        "    if sign == 0x4000:\n        out[0] = 45  # '-'\n        at = 1\n",
        "    if sign == 0x4001:\n        out[0] = 45  # '-'\n        at = 1\n",
        (NUMERIC, ROUNDTRIP, PARITY),
        ("compiled",),
    ),
    Mutation(
        "cy-timestamp-truncating-division",
        "timestamps before 2000 split into days with C division (compiled codec)",
        "src/pgwire/_speedups/codecs.pyx",
        "    cdef int64_t days = _floordiv(micros, _US_PER_DAY)\n",
        "    cdef int64_t days = micros // _US_PER_DAY\n",
        (DATETIME, ROUNDTRIP, PARITY),
        ("compiled",),
    ),
    # ------------------------------------------------------------ COPY row counts
    Mutation(
        "py-copy-drop-row-at-chunk-end",
        "the record that fills a COPY chunk is dropped (pure encoder)",
        "src/pgwire/protocol/messages.py",
        "        count += 1\n"
        "        if limit and len(out) >= limit:\n"
        "            return False, count\n",
        "        count += 1\n        if limit and len(out) >= limit:\n"
        "            del out[start:]\n            return False, count\n",
        (COPY_IN, PARITY),
        ("python",),
    ),
    Mutation(
        "cy-copy-drop-row-at-chunk-end",
        "the record that fills a COPY chunk is dropped (compiled encoder)",
        "src/pgwire/_speedups/wire.pyx",
        "        count += 1\n"
        "        if limit and length >= limit:\n"
        "            return False, count\n",
        "        count += 1\n        if limit and length >= limit:\n"
        "            del out[start:]\n            return False, count\n",
        (COPY_IN, PARITY),
        ("compiled",),
    ),
    Mutation(
        "copy-out-not-stopped",
        "a COPY TO its consumer gave up on is not cancelled: the server streams on",
        "src/pgwire/copy.py",
        "            await _stop(conn, op, done, exc, True)\n",
        "            await _stop(conn, op, done, exc, False)\n",
        ("tests/integration/test_copy_out.py",),
    ),
    # ------------------------------------------------------------ timeouts
    Mutation(
        "timeout-no-cancel",
        "a call that times out sends no CancelRequest: the statement keeps running",
        "src/pgwire/connection.py",
        "            except asyncio.TimeoutError:\n"
        "                conn._abandon(op)\n"
        "                raise asyncio.TimeoutError() from None\n",
        "            except asyncio.TimeoutError:\n"
        "                raise asyncio.TimeoutError() from None\n",
        (TIMEOUTS,),
    ),
)


# ------------------------------------------------------------------ running


def copy_tree(dest: Path) -> Path:
    tree = dest / "repo"
    shutil.copytree(ROOT, tree, ignore=IGNORE, symlinks=True)
    return tree


def env_for(tree: Path, impl: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env["PGWIRE_IMPL"] = impl
    if impl == "compiled":
        env["PGWIRE_REQUIRE_COMPILED"] = "1"
    else:
        env.pop("PGWIRE_REQUIRE_COMPILED", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def build_tools(tmp: Path) -> Path:
    """A directory holding the setuptools ``pyproject.toml`` asks for (build isolation's)."""
    target = tmp / "buildtools"
    if not target.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(target)]
            + ["setuptools>=77", "Cython>=3"],
            check=True,
            capture_output=True,
        )
    return target


def build(tree: Path) -> None:
    """Compile the extension in place in ``tree`` (the copy's own setup.py)."""
    tools = build_tools(tree.parent)
    result = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=tree,
        env={**os.environ, "PGWIRE_REQUIRE_COMPILED": "1", "PYTHONPATH": str(tools)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the extension does not build:\n{result.stderr[-3000:]}")


def check_imports_from(tree: Path, impl: str) -> None:
    """The pgwire the tests import is the copy's (not the installed one)."""
    probe = "import pgwire, pgwire._impl as i; print(pgwire.__file__); print(i.IMPL)"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tree,
        env=env_for(tree, impl),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not out[0].startswith(str(tree)) or out[1] != impl:
        raise RuntimeError(f"tests would import {out} instead of the copy in {tree} ({impl})")


def pytest(tree: Path, impl: str, tests: tuple[str, ...], verbose: bool) -> tuple[int, str]:
    # A hang counts as a failure (pytest-timeout), after 60 s rather than the suite's 300.
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--timeout=60"]
    cmd += tests
    result = subprocess.run(cmd, cwd=tree, env=env_for(tree, impl), capture_output=True, text=True)
    lines = (result.stdout + result.stderr).strip().splitlines()
    failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
    summary = failed[0] if failed else (lines[-1] if lines else "")
    if verbose:
        print(result.stdout[-4000:], result.stderr[-2000:])
    return result.returncode, summary


def apply(tree: Path, m: Mutation) -> None:
    path = tree / m.path
    text = path.read_text()
    found = text.count(m.old)
    if found != 1:
        raise RuntimeError(f"{m.name}: the snippet occurs {found} times in {m.path}, not once")
    path.write_text(text.replace(m.old, m.new))


def run_mutations(selected: list[Mutation], impls: tuple[str, ...], verbose: bool) -> int:
    results: dict[str, dict[str, str]] = {}
    bad = 0
    with tempfile.TemporaryDirectory(prefix="pgwire-mutants-") as tmp:
        pristine = copy_tree(Path(tmp))
        if "compiled" in impls:
            build(pristine)
        for impl in impls:
            check_imports_from(pristine, impl)
            wanted = sorted({t for m in selected if impl in m.impls for t in m.tests})
            if not wanted:
                continue
            print(f"baseline ({impl}): {' '.join(wanted)}", flush=True)
            rc, summary = pytest(pristine, impl, tuple(wanted), verbose)
            if rc != 0:
                print(f"  baseline FAILS ({impl}): {summary}")
                return 1
        for m in selected:
            results[m.name] = {}
            work = Path(tmp) / m.name
            shutil.copytree(pristine, work, symlinks=True)
            apply(work, m)
            if m.path.endswith(".pyx"):
                build(work)
            for impl in impls:
                if impl not in m.impls:
                    results[m.name][impl] = "-"
                    continue
                started = time.monotonic()
                rc, summary = pytest(work, impl, m.tests, verbose)
                verdict = "killed" if rc in (1, 2, 3) else "SURVIVED"
                if rc not in (0, 1, 2, 3):
                    verdict = f"error (pytest exit {rc})"
                if verdict != "killed":
                    bad += 1
                results[m.name][impl] = verdict
                took = time.monotonic() - started
                print(f"{m.name:36} {impl:9} {verdict:9} {took:5.0f}s  {summary[:90]}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("| mutation | behaviour broken | python | compiled |")
    print("|---|---|---|---|")
    for m in selected:
        r = results[m.name]
        cells = " | ".join(r.get(impl, "-") for impl in IMPLS)
        print(f"| `{m.name}` | {m.behaviour} | {cells} |")
    killed = sum(v == "killed" for r in results.values() for v in r.values())
    print(f"\n{killed} killed, {bad} not killed")
    return 1 if bad else 0


# ------------------------------------------------------------------ mutmut

#: Module groups for ``--mutmut``: the files mutmut mutates and the unit tests it runs.
MUTMUT_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "codecs": (
        ("src/pgwire/codecs/numeric.py",),
        ("tests/unit/test_codecs_numeric.py",),
    ),
    "datetime": (
        ("src/pgwire/codecs/datetime.py",),
        ("tests/unit/test_codecs_datetime.py",),
    ),
    "protocol": (
        ("src/pgwire/protocol/messages.py",),
        ("tests/unit/test_protocol_messages.py", "tests/unit/test_protocol_core.py"),
    ),
}


def run_mutmut(group: str, max_children: int, show: bool) -> int:
    """mutmut over one module group in a temporary copy; prints its score."""
    paths, tests = MUTMUT_GROUPS[group]
    with tempfile.TemporaryDirectory(prefix=f"pgwire-mutmut-{group}-") as tmp:
        tree = copy_tree(Path(tmp))
        # mutmut reads its settings from setup.cfg; the copy gets its own.
        (tree / "setup.cfg").write_text(
            "[mutmut]\n"
            "source_paths=src\n"
            "only_mutate=" + "\n  ".join(paths) + "\n"
            "pytest_add_cli_args_test_selection=" + "\n  ".join(tests) + "\n"
            "pytest_add_cli_args=-p\n  no:cacheprovider\n"
        )
        env = env_for(tree, "python")
        env.pop("PYTHONPATH")  # mutmut puts its mutants/src first itself
        cmd = [sys.executable, "-m", "mutmut", "run", f"--max-children={max_children}"]
        print(f"mutmut over {', '.join(paths)} with {', '.join(tests)}", flush=True)
        subprocess.run(cmd, cwd=tree, env=env, check=False)
        out = subprocess.run(
            [sys.executable, "-m", "mutmut", "results", "--all", "true"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        counts: dict[str, int] = {}
        survivors = []
        for line in out.splitlines():
            if ":" not in line:
                continue
            name, _, status = line.rpartition(":")
            status = status.strip()
            counts[status] = counts.get(status, 0) + 1
            if status == "survived":
                survivors.append(name.strip())
        total = sum(counts.values())
        killed = counts.get("killed", 0)
        print(f"\nmutmut {group}: {killed}/{total} killed ({counts})")
        for name in survivors:
            print(f"  survived: {name}")
            if show:
                diff = subprocess.run(
                    [sys.executable, "-m", "mutmut", "show", name],
                    cwd=tree,
                    env=env,
                    capture_output=True,
                    text=True,
                ).stdout
                print("    " + "\n    ".join(diff.strip().splitlines()[2:]))
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--impl", choices=IMPLS, action="append", help="implementation(s)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--mutmut", choices=sorted(MUTMUT_GROUPS), help="run mutmut instead")
    parser.add_argument("--show", action="store_true", help="print each mutmut survivor's diff")
    parser.add_argument("--max-children", type=int, default=2, help="mutmut worker processes")
    parser.add_argument(
        "--select", nargs="+", metavar="TEST", help="run this pytest selection instead"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest output")
    args = parser.parse_args()
    if args.mutmut:
        return run_mutmut(args.mutmut, args.max_children, args.show)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:36} {m.path:34} {m.behaviour}")
        return 0
    by_name = {m.name: m for m in MUTATIONS}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutation(s): {', '.join(unknown)} (see --list)")
    selected = [by_name[n] for n in args.names] if args.names else list(MUTATIONS)
    if args.select:
        selected = [dataclasses.replace(m, tests=tuple(args.select)) for m in selected]
    return run_mutations(selected, tuple(args.impl or IMPLS), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
