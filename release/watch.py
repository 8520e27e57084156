"""A file watcher of the standard library: polls the mtimes and sizes of a folder's files on the injected clock.

:meth:`Watcher.wait` returns the paths that changed (added, modified or
removed) once a change has been seen and the folder has then stayed quiet for
``debounce`` seconds, so an editor's save of several files (or a write in
parts) is one change. Folders that hold builds, caches and version control
are not watched.
"""

from __future__ import annotations

import os
from typing import Callable

from lamctl.release.clock import Clock

IGNORED_DIRS = frozenset({".lamctl", ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules",
                          ".aws-sam", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".idea", ".vscode"})
IGNORED_SUFFIXES = (".pyc", ".swp", ".swx", "~", ".tmp")

Snapshot = dict[str, tuple[int, int]]


def scan(root: str) -> Snapshot:
    """``{path: (mtime_ns, size)}`` of every file under ``root`` outside :data:`IGNORED_DIRS`."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS and not d.startswith(".#"))
        for name in files:
            if name.endswith(IGNORED_SUFFIXES) or name.startswith(".#"):
                continue
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:  # removed while walking
                continue
            found[path] = (st.st_mtime_ns, st.st_size)
    return found


def changed(before: Snapshot, after: Snapshot) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


class Watcher:
    def __init__(self, root: str, clock: Clock, poll: float = 0.2, debounce: float = 0.3):
        self.root = os.path.abspath(root)
        self.clock = clock
        self.poll = poll
        self.debounce = debounce
        self.snapshot = scan(self.root)

    def wait(self, until: Callable[[], bool] | None = None) -> set[str] | None:
        """The paths changed since the last call (or since the watcher was made), after the quiet time; None
        when ``until()`` turned true first. A change made while the caller worked on the previous one is
        reported by the next call."""
        done = until or (lambda: False)
        base = self.snapshot
        while True:
            if done():
                return None
            self.clock.sleep(self.poll)
            current = scan(self.root)
            if changed(base, current):
                break
        quiet_since = self.clock.now()
        while self.clock.now() - quiet_since < self.debounce:
            self.clock.sleep(self.poll)
            latest = scan(self.root)
            if latest != current:
                current, quiet_since = latest, self.clock.now()
        self.snapshot = current
        return changed(base, current)
