"""The file watcher of ``lamctl sync --watch``: real files with explicit mtimes, polled on a FakeClock."""

from __future__ import annotations

import os

from lamctl.release.clock import FakeClock
from lamctl.release.watch import Watcher


def _touch(path, text: str, mtime_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


class Steps:
    """``until`` for Watcher.wait: runs one scripted action per poll (writes at chosen moments)."""

    def __init__(self, actions):
        self.actions = list(actions)
        self.polls = 0

    def __call__(self) -> bool:
        self.polls += 1
        if self.actions:
            action = self.actions.pop(0)
            if action is not None:
                action()
            return False
        return self.polls > 50


def test_a_save_is_reported_once_after_the_quiet_time(tmp_path):
    app = tmp_path / "src" / "app.py"
    _touch(app, "v1", 1_000_000_000)
    clock = FakeClock()
    watcher = Watcher(str(tmp_path), clock, poll=0.2, debounce=0.6)
    steps = Steps([None, lambda: _touch(app, "v2", 2_000_000_000)])
    assert watcher.wait(steps) == {str(app)}
    # it waited for the folder to stay quiet: at least the debounce after seeing the change
    assert sum(clock.sleeps) >= 0.6 + 0.2
    assert watcher.wait(Steps([None] * 3)) is None  # nothing more: no second report of the same save


class ScriptedClock(FakeClock):
    """A FakeClock that makes a write at chosen sleeps: files saved while the watcher waits."""

    def __init__(self, script: dict):
        super().__init__()
        self.script = dict(script)

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        action = self.script.pop(len(self.sleeps), None)
        if action is not None:
            action()


def test_a_burst_of_writes_is_one_change(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    _touch(a, "1", 1_000_000_000)
    clock = ScriptedClock({1: lambda: _touch(a, "2", 2_000_000_000),  # seen by the first poll
                           2: lambda: _touch(b, "new", 2_100_000_000),  # then, within the quiet time, more
                           3: lambda: _touch(a, "3", 2_200_000_000)})
    watcher = Watcher(str(tmp_path), clock, poll=0.2, debounce=0.5)
    assert watcher.wait() == {str(a), str(b)}
    assert not clock.script  # every write happened before it answered
    assert sum(clock.sleeps) >= 3 * 0.2 + 0.5  # and it waited out the quiet time after the last one
    assert watcher.wait(lambda: len(clock.sleeps) > 10) is None  # the burst is not reported again


def test_builds_caches_and_version_control_are_not_watched(tmp_path):
    clock = FakeClock()
    watcher = Watcher(str(tmp_path), clock, poll=0.1, debounce=0.1)
    steps = Steps([lambda: _touch(tmp_path / ".lamctl" / "build" / "Fn.zip", "z", 5_000_000_000),
                   lambda: _touch(tmp_path / "src" / "__pycache__" / "app.cpython-312.pyc", "c", 5_000_000_000),
                   lambda: _touch(tmp_path / ".git" / "index", "i", 5_000_000_000),
                   None, None])
    assert watcher.wait(steps) is None


def test_a_change_made_while_the_last_one_was_handled_is_reported_next(tmp_path):
    app = tmp_path / "app.py"
    _touch(app, "1", 1_000_000_000)
    clock = FakeClock()
    watcher = Watcher(str(tmp_path), clock, poll=0.2, debounce=0.2)
    assert watcher.wait(Steps([lambda: _touch(app, "2", 2_000_000_000)])) == {str(app)}
    _touch(app, "3", 3_000_000_000)  # saved while the push of "2" ran
    assert watcher.wait(Steps([None])) == {str(app)}  # seen at the first poll
    removed = tmp_path / "app.py"
    removed.unlink()
    assert watcher.wait(Steps([None])) == {str(app)}  # a removal is a change too
