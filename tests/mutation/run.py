"""Mutation testing, on demand (slow: not part of `pytest` nor of CI), with cosmic-ray.

    pip install cosmic-ray
    python tests/mutation/run.py                 # every module below
    python tests/mutation/run.py limits lock     # the modules whose short name is given
    python tests/mutation/run.py --list          # the modules and the tests that judge them
    python tests/mutation/run.py engine --sample 150 --seed 19   # a reproducible sample of each module's mutants
    python tests/mutation/run.py plan --keep /tmp/mutation   # again later: only the survivors run again
                                                             # (while the module itself is unchanged)

Run it under ``nice -n 19`` on a shared machine: cosmic-ray's local distributor runs one mutant at a time.

For each module, cosmic-ray changes one thing at a time (an operator, a comparison, a constant, a
``break``...) and runs the module's tests; a mutant that the tests still pass "survived". The work is
done on a copy of the repository's tracked files in a temporary folder, imported ahead of the installed
lamctl through PYTHONPATH: the checkout is never changed. Prints killed / total per module and the
surviving mutants with their diffs; README.md (Testing) keeps the figures of the last run, and
tests/mutation/EQUIVALENT.md the survivors found equivalent (or left), one by one.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# module -> the tests that judge it (fast ones: each mutant runs them, stopping at the first failure)
MODULES: dict[str, tuple[str, list[str]]] = {
    "engine": ("release/engine.py", ["tests/unit/test_release_engine.py", "tests/unit/test_release_step_states.py",
                                     "tests/unit/test_release_control.py"]),
    "plan": ("release/plan.py", ["tests/unit/test_release_engine.py", "tests/unit/test_release_strategy.py",
                                 "tests/unit/test_release_step_states.py"]),
    "journal": ("release/journal.py", ["tests/unit/test_release_journal.py", "tests/unit/test_release_engine.py",
                                       "tests/unit/test_release_control.py"]),
    "lock": ("release/lock.py", ["tests/unit/test_release_lock.py", "tests/unit/test_release_lease.py",
                                 "tests/unit/test_release_control.py"]),
    "limits": ("packager/limits.py", ["tests/unit/test_build_limits.py", "tests/unit/test_build_limits_edges.py",
                                      "-k", "not exactly_250_mb_passes"]),  # zips 250 MB: 5 s a mutant; the
                                                                             # pure check at the edge stays
    "archive": ("packager/archive.py", ["tests/unit/test_build_archive.py"]),
    "intrinsics": ("transform/intrinsics.py", ["tests/unit/test_transform_intrinsics.py",
                                               "tests/transform/test_transform_core_diff.py",
                                               "tests/transform/test_transform_errors.py"]),
    "logical_ids": ("transform/context.py", ["tests/unit/test_transform_context.py",
                                             "tests/transform/test_transform_core_diff.py",
                                             "tests/transform/test_transform_errors.py"]),
}


def _copy(dest: str) -> None:
    """The tracked files of the checkout, into ``dest/lamctl`` (the package is the repository's root)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src, dst = os.path.join(ROOT, rel), os.path.join(dest, "lamctl", rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)


def _sample(session: str, size: int, seed: int) -> int:
    """Keep ``size`` of the session's mutants, chosen by ``seed`` from their stable order (file, place,
    operator, occurrence: a job's id is random), so that a sample is the same run after run. Returns how many
    mutants there were."""
    db = sqlite3.connect(session)
    try:
        rows = db.execute("SELECT job_id, module_path, start_pos_row, start_pos_col, operator_name, occurrence "
                          "FROM mutation_specs").fetchall()
        if size < len(rows):
            ordered = sorted(rows, key=lambda r: (r[1], r[2], r[3], r[4], r[5]))
            kept = {r[0] for r in random.Random(seed).sample(ordered, size)}
            dropped = [(r[0],) for r in rows if r[0] not in kept]
            db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", dropped)
            db.executemany("DELETE FROM work_items WHERE job_id = ?", dropped)
            db.commit()
        return len(rows)
    finally:
        db.close()


def _annotations(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The (start, end) places of the type annotations of a module that has ``from __future__ import
    annotations`` (none otherwise): there they are strings never evaluated, so a mutant inside one is
    equivalent by construction."""
    tree = ast.parse(source)
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
               any(a.name == "annotations" for a in n.names) for n in tree.body):
        return []
    found = []
    for node in ast.walk(tree):
        kept = []
        if isinstance(node, ast.arg):
            kept = [node.annotation]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kept = [node.returns]
        elif isinstance(node, ast.AnnAssign):
            kept = [node.annotation]
        found += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in kept if a is not None]
    return found


def _drop_annotation_mutants(session: str, source: str) -> int:
    """Remove the mutants inside type annotations (see :func:`_annotations`); returns how many."""
    places = _annotations(source)
    db = sqlite3.connect(session)
    try:
        rows = db.execute("SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs").fetchall()
        dropped = [(job,) for job, row, col in rows if any(a <= (row, col) < b for a, b in places)]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", dropped)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", dropped)
        db.commit()
        return len(dropped)
    finally:
        db.close()


def _forget_survivors(session: str) -> None:
    """Drop the results of the mutants that were not killed, so that ``cosmic-ray exec`` runs them again (a
    killed mutant stays killed: tests are only ever added)."""
    db = sqlite3.connect(session)
    try:
        db.execute("DELETE FROM work_results WHERE test_outcome IS NULL OR test_outcome != 'KILLED'")
        db.commit()
    finally:
        db.close()


def run_module(name: str, timeout: float, sample: int | None = None, seed: int = 0,
               keep: str | None = None) -> tuple[int, int, int, int, str]:
    """(killed, total run, mutants in the module, mutants of the sample left out as being in annotations,
    report of the survivors) for one module; with ``sample``, only that many mutants (chosen by ``seed``) are
    looked at. With ``keep`` (a folder), the session is kept there as ``<name>.sqlite``; when it is there
    already, only the mutants that survived it (or did not run) are run again, against the tests of now."""
    module, tests = MODULES[name]
    with tempfile.TemporaryDirectory(prefix=f"lamctl-mutation-{name}-") as tmp:
        _copy(tmp)
        work = os.path.join(tmp, "lamctl")
        env = dict(os.environ, PYTHONPATH=tmp + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("CI", None)
        command = (f"{sys.executable} -m pytest -x -q -p no:cacheprovider -o addopts= "
                   f"--import-mode=importlib {' '.join(repr(t) if ' ' in t else t for t in tests)}")
        config = os.path.join(tmp, "cosmic-ray.toml")
        with open(config, "w") as fh:
            fh.write(f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout}\nexcluded-modules = []\n'
                     f'test-command = "{command}"\n\n[cosmic-ray.distributor]\nname = "local"\n')
        session = os.path.join(keep or tmp, f"{name}.sqlite")
        bin_dir = os.path.dirname(sys.executable)
        if os.path.exists(session):
            with open(session + ".json", encoding="utf-8") as fh:
                population, in_annotations = json.load(fh)
            _forget_survivors(session)
        else:
            subprocess.run([os.path.join(bin_dir, "cosmic-ray"), "init", config, session], cwd=work, env=env,
                           check=True)
            population = _sample(session, sample if sample is not None else sys.maxsize, seed)
            with open(os.path.join(work, module), encoding="utf-8") as fh:
                in_annotations = _drop_annotation_mutants(session, fh.read())
            with open(session + ".json", "w", encoding="utf-8") as fh:
                json.dump([population, in_annotations], fh)
        baseline = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True)
        if baseline.returncode != 0:
            raise SystemExit(f"{name}: the tests fail without any mutant:\n{baseline.stdout[-3000:]}")
        subprocess.run([os.path.join(bin_dir, "cosmic-ray"), "exec", config, session], cwd=work, env=env,
                       check=True)
        report = subprocess.run([os.path.join(bin_dir, "cr-report"), "--show-diff", "--surviving-only", session],
                                cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"total jobs: (\d+)", report).group(1))
    complete = int(re.search(r"complete: (\d+)", report).group(1))
    survived = int(re.search(r"surviving mutants: (\d+)", report).group(1))
    if complete != total:
        report += f"\n{total - complete} mutant(s) did not complete: counted as surviving\n"
    return complete - survived, total, population, in_annotations, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", help=f"short names: {', '.join(MODULES)} (default: all)")
    ap.add_argument("--list", action="store_true", help="the modules and their tests, then exit")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds for one mutant's tests")
    ap.add_argument("--sample", type=int, metavar="N", help="run only N mutants of each module (a sample)")
    ap.add_argument("--seed", type=int, default=0, help="which sample --sample takes (default: 0)")
    ap.add_argument("--keep", metavar="DIR", help="keep each module's session in DIR; run again, only its "
                                                   "surviving mutants run (after adding tests)")
    args = ap.parse_args(argv)
    if args.list:
        for name, (module, tests) in MODULES.items():
            print(f"{name:10} {module:28} {' '.join(tests)}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)}; one of {', '.join(MODULES)}", file=sys.stderr)
        return 2
    if args.sample is not None and args.sample < 1:
        print(f"--sample {args.sample}: give a number of mutants of at least 1", file=sys.stderr)
        return 2
    figures = []
    for name in args.modules or list(MODULES):
        killed, total, population, in_annotations, report = run_module(name, args.timeout, args.sample, args.seed,
                                                                       args.keep)
        print(report)
        figures.append((name, killed, total, population, in_annotations))
    print("module      killed / run")
    for name, killed, total, population, in_annotations in figures:
        note = f"  sample of {population} mutants, seed {args.seed}" if args.sample and args.sample < population \
            else f"  of {population} mutants"
        note += f"; {in_annotations} in type annotations not run" if in_annotations else ""
        print(f"{name:10} {killed:5d} / {total:<5d} {100 * killed / total if total else 100:5.1f} %{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
