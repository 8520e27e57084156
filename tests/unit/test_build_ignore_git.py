""".lamctlignore follows gitignore: our matcher agrees with git itself (``git check-ignore``) on
every pair of patterns drawn from a corpus, over a set of paths (files and folders)."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess

import pytest

from lamctl.packager import files

PATTERNS = ["foo", "foo/", "/foo", "a/*.py", "a/**/x.py", "**/x", "a/**", "*.txt", "!keep.txt", "x?.txt",
            "[ab]*", "b/", "!b/c", "**/b/*.py", "d*/", "/a/b", "!a/b/c", "#comment", "\\#hash"]
FILES = ["foo", "a/foo/x.txt", "a/x.py", "a/b/x.py", "a/b/c/x.py", "p/q/x", "keep.txt", "x1.txt", "bar",
         "b/c/d.py", "dd/e", "q/b/z.py", "#hash", "c/keep.txt"]


def _all_paths() -> list[str]:
    out = set(FILES)
    for f in FILES:
        parts = f.split("/")
        out.update("/".join(parts[:k]) for k in range(1, len(parts)))
    return sorted(out)


def _ours(lines, path: str, is_dir: bool) -> bool:
    m = files.Matcher([r for r in (files.compile_pattern(ln, "t") for ln in lines) if r])
    parts = path.split("/")
    for k in range(1, len(parts)):  # the walk never enters an excluded folder
        if m.excluded("/".join(parts[:k]), True):
            return True
    return m.excluded(path, is_dir)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_matcher_agrees_with_git_check_ignore(tmp_path):
    combos = [c for n in (1, 2) for c in itertools.permutations(PATTERNS, n)]
    paths = _all_paths()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    queries = []
    for i, combo in enumerate(combos):
        case = tmp_path / f"case{i}"
        for f in FILES:
            (case / f).parent.mkdir(parents=True, exist_ok=True)
            (case / f).write_text("")
        (case / ".gitignore").write_text("\n".join(combo) + "\n")
        queries += [f"case{i}/{p}" for p in paths]
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=str(tmp_path))
    out = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "--no-index", "--stdin"],
                         input="\n".join(queries) + "\n", capture_output=True, text=True, env=env)
    assert out.returncode in (0, 1), out.stderr
    ignored_by_git = set(out.stdout.splitlines())
    assert 0.2 < len(ignored_by_git) / len(queries) < 0.8  # git did answer, with both verdicts
    mismatches = []
    for i, combo in enumerate(combos):
        for p in paths:
            is_dir = (tmp_path / f"case{i}" / p).is_dir()
            ours = _ours(combo, p, is_dir)
            theirs = f"case{i}/{p}" in ignored_by_git
            if ours != theirs:
                mismatches.append(f"{list(combo)} {p}{'/' if is_dir else ''}: lamctl {ours}, git {theirs}")
    assert len(combos) * len(paths) > 5000
    assert not mismatches, f"{len(mismatches)} disagreements, e.g.\n" + "\n".join(mismatches[:20])
