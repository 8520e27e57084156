"""Mutation testing, on demand (slow: not part of `pytest` nor of CI), with cosmic-ray.

    pip install cosmic-ray
    python tests/mutation/run.py                 # every module below
    python tests/mutation/run.py limits lock     # the modules whose short name is given
    python tests/mutation/run.py --list          # the modules and the tests that judge them

For each module, cosmic-ray changes one thing at a time (an operator, a comparison, a constant, a
``break``...) and runs the module's tests; a mutant that the tests still pass "survived". The work is
done on a copy of the repository's tracked files in a temporary folder, imported ahead of the installed
lamctl through PYTHONPATH: the checkout is never changed. Prints killed / total per module and the
surviving mutants with their diffs; README.md (Testing) keeps the figures of the last run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# module -> the tests that judge it (fast ones: each mutant runs them, stopping at the first failure)
MODULES: dict[str, tuple[str, list[str]]] = {
    "engine": ("release/engine.py", ["tests/unit/test_release_engine.py", "tests/unit/test_release_step_states.py",
                                     "tests/unit/test_release_control.py"]),
    "plan": ("release/plan.py", ["tests/unit/test_release_engine.py", "tests/unit/test_release_strategy.py"]),
    "journal": ("release/journal.py", ["tests/unit/test_release_engine.py", "tests/unit/test_release_control.py"]),
    "lock": ("release/lock.py", ["tests/unit/test_release_lease.py", "tests/unit/test_release_control.py"]),
    "limits": ("packager/limits.py", ["tests/unit/test_build_limits.py", "tests/unit/test_build_limits_edges.py",
                                      "-k", "not exactly_250_mb_passes"]),  # zips 250 MB: 5 s a mutant; the
                                                                             # pure check at the edge stays
    "archive": ("packager/archive.py", ["tests/unit/test_build_archive.py"]),
    "intrinsics": ("transform/intrinsics.py", ["tests/transform/test_transform_core_diff.py",
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


def run_module(name: str, timeout: float) -> tuple[int, int, str]:
    """(killed, total, report of the survivors) for one module."""
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
        session = os.path.join(tmp, "session.sqlite")
        bin_dir = os.path.dirname(sys.executable)
        subprocess.run([os.path.join(bin_dir, "cosmic-ray"), "init", config, session], cwd=work, env=env, check=True)
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
    return complete - survived, total, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", help=f"short names: {', '.join(MODULES)} (default: all)")
    ap.add_argument("--list", action="store_true", help="the modules and their tests, then exit")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds for one mutant's tests")
    args = ap.parse_args(argv)
    if args.list:
        for name, (module, tests) in MODULES.items():
            print(f"{name:10} {module:28} {' '.join(tests)}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)}; one of {', '.join(MODULES)}", file=sys.stderr)
        return 2
    figures = []
    for name in args.modules or list(MODULES):
        killed, total, report = run_module(name, args.timeout)
        print(report)
        figures.append((name, killed, total))
    print("module      killed / total")
    for name, killed, total in figures:
        print(f"{name:10} {killed:5d} / {total:<5d} {100 * killed / total if total else 100:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
