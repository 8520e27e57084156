"""CPU and memory for a function's process, as Lambda gives them: both follow ``MemorySize``.

Lambda gives a function one full vCPU at 1,769 MB, proportionally less below and more above, and ends an
invocation that uses more memory than ``MemorySize`` (``Runtime.OutOfMemory``). Locally each execution
environment gets a control group of its own, where the machine lets lamctl make one:

* cgroup v2 (one hierarchy at ``/sys/fs/cgroup``): ``cpu.max`` = ``MemorySize / 1769`` of a period and
  ``memory.max`` = ``MemorySize`` (``memory.swap.max`` 0), under lamctl's own cgroup when that cgroup can hand
  the ``cpu`` and ``memory`` controllers down (``cgroup.subtree_control``; root, or a delegated cgroup);
* cgroup v1 (``cpu`` and ``memory`` hierarchies mounted apart): ``cpu.cfs_quota_us`` over
  ``cpu.cfs_period_us``, ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes`` where swap is
  accounted), under lamctl's cgroup in each hierarchy.

Where neither can be written (no permission, no controller, not Linux) functions run unlimited and
:func:`support` says why, once, on stderr: memory then does not change speed locally. ``LAMCTL_LOCAL_LIMITS=off``
turns the limits off (functions then run as fast as the machine lets them at any MemorySize).

A process is moved into its group right after it starts (before it has read its first invocation); the
group is removed when the environment stops (and what a killed lamctl left behind, by the next one). :meth:`Group.out_of_memory` tells whether the kernel ended a
process of the group for going over its memory limit.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from dataclasses import dataclass

FULL_VCPU_MB = 1769  # Lambda: one vCPU's worth of CPU time at 1,769 MB
PERIOD_US = 100_000
CGROUP_ROOT = "/sys/fs/cgroup"
MB = 1024 * 1024
SWITCH = "LAMCTL_LOCAL_LIMITS"  # "off": run functions unlimited even where cgroups could limit them


def cpu_share(memory_mb: int) -> float:
    """The vCPUs Lambda gives ``memory_mb`` (1.0 at 1,769 MB, in proportion below and above)."""
    return memory_mb / FULL_VCPU_MB


def cpu_quota_us(memory_mb: int, period_us: int = PERIOD_US) -> int:
    """CPU time per period for ``memory_mb``: at least 1 ms (the kernel's smallest quota)."""
    return max(1000, round(period_us * cpu_share(memory_mb)))


def switched_off() -> bool:
    """Whether ``LAMCTL_LOCAL_LIMITS=off`` (or 0, no, false) asks for no limits."""
    return os.environ.get(SWITCH, "on").strip().lower() in ("off", "0", "no", "false")


@dataclass(frozen=True)
class Support:
    """What this machine lets the local runtime enforce."""

    cpu: bool
    memory: bool
    kind: str  # "cgroup2", "cgroup1" or "" (none)
    reason: str = ""  # why not, when cpu or memory is False

    def as_dict(self) -> dict:
        return {"cpu": self.cpu, "memory": self.memory, "kind": self.kind, "reason": self.reason}


class Group:
    """The control group(s) of one execution environment."""

    def __init__(self, kind: str, paths: dict[str, str]):
        self.kind = kind
        self.paths = paths  # controller ("cpu", "memory", or "unified") -> folder

    def _memory_dir(self) -> str | None:
        return self.paths.get("memory") or self.paths.get("unified")

    def out_of_memory(self) -> bool:
        """Whether the kernel's OOM killer ended a process of this group for its memory limit."""
        folder = self._memory_dir()
        if folder is None:
            return False
        name = "memory.events" if self.kind == "cgroup2" else "memory.oom_control"
        try:
            with open(os.path.join(folder, name)) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value or 0) > 0:
                        return True
        except (OSError, ValueError):
            return False
        if self.kind == "cgroup1":  # kernels without oom_kill in oom_control: the limit was hit at least
            try:
                with open(os.path.join(folder, "memory.failcnt")) as fh:
                    return int(fh.read().strip() or 0) > 0
            except (OSError, ValueError):
                return False
        return False

    def remove(self) -> None:
        """Remove the group's folders (its processes must be gone; what is left is removed when lamctl exits)."""
        for folder in set(self.paths.values()):
            try:
                os.rmdir(folder)
            except OSError:
                pass


def _own_cgroups(proc_self: str = "/proc/self/cgroup") -> dict[str, str]:
    """This process's cgroup in each hierarchy: controller name (or "" for v2) -> path."""
    found: dict[str, str] = {}
    try:
        with open(proc_self) as fh:
            for line in fh:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) != 3:
                    continue
                for ctl in parts[1].split(","):
                    found[ctl] = parts[2]
    except OSError:
        pass
    return found


def _write(path: str, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


class Limits:
    """Makes, fills and removes the environments' groups. One per process (:func:`limits`)."""

    def __init__(self, root: str = CGROUP_ROOT, proc_self: str = "/proc/self/cgroup"):
        self.root = root
        self.proc_self = proc_self
        self._lock = threading.Lock()
        self._base: dict[str, str] | None = None  # controller -> lamctl's folder
        self._support: Support | None = None
        self._warned: set[str] = set()

    # -- detection -----------------------------------------------------------------------------

    def support(self) -> Support:
        if switched_off():
            return Support(False, False, "", f"limits are turned off ({SWITCH}=off)")
        with self._lock:
            if self._support is None:
                self._support = self._detect()
            return self._support

    def _detect(self) -> Support:
        if not sys.platform.startswith("linux"):
            return Support(False, False, "", f"control groups are a Linux feature and this is {sys.platform}")
        own = _own_cgroups(self.proc_self)
        if os.path.exists(os.path.join(self.root, "cgroup.controllers")):
            return self._detect_v2(own.get("", "/"))
        cpu_dir, mem_dir = os.path.join(self.root, "cpu"), os.path.join(self.root, "memory")
        if os.path.exists(os.path.join(cpu_dir, "cpu.cfs_quota_us")) or \
                os.path.exists(os.path.join(mem_dir, "memory.limit_in_bytes")):
            return self._detect_v1(own)
        return Support(False, False, "", f"no cgroup controllers for cpu or memory under {self.root}")

    def _make_base(self, parent: str) -> str:
        _sweep(parent)
        base = os.path.join(parent, f"lamctl-{os.getpid()}")
        os.makedirs(base, exist_ok=True)
        atexit.register(_remove_tree, base)
        return base

    def _detect_v1(self, own: dict[str, str]) -> Support:
        base: dict[str, str] = {}
        reasons = []
        for ctl, probe in (("cpu", "cpu.cfs_quota_us"), ("memory", "memory.limit_in_bytes")):
            mount = os.path.join(self.root, ctl)
            if not os.path.exists(os.path.join(mount, probe)):
                reasons.append(f"no {ctl} controller mounted at {mount}")
                continue
            parent = os.path.join(mount, own.get(ctl, "/").lstrip("/"))
            try:
                folder = self._make_base(parent)
                if ctl == "cpu":  # lamctl's own group is not limited; only its environments' are
                    _write(os.path.join(folder, "cpu.cfs_quota_us"), "-1")
                base[ctl] = folder
            except OSError as exc:
                reasons.append(f"cannot create a {ctl} cgroup under {parent} ({exc.strerror}; run as root or in a "
                               "container that allows it)")
        self._base = base
        return Support("cpu" in base, "memory" in base, "cgroup1" if base else "", "; ".join(reasons))

    def _detect_v2(self, own_path: str) -> Support:
        parent = os.path.join(self.root, own_path.lstrip("/"))
        try:
            with open(os.path.join(parent, "cgroup.controllers")) as fh:
                available = set(fh.read().split())
        except OSError as exc:
            return Support(False, False, "", f"cannot read {parent}/cgroup.controllers ({exc.strerror})")
        missing = [c for c in ("cpu", "memory") if c not in available]
        wanted = [c for c in ("cpu", "memory") if c in available]
        if not wanted:
            return Support(False, False, "", f"the cgroup {own_path} is not given the cpu or memory controller")
        try:
            base = self._make_base(parent)
            # the controllers must be enabled for lamctl's group's children (a group without processes)
            _write(os.path.join(parent, "cgroup.subtree_control"), " ".join(f"+{c}" for c in wanted))
            _write(os.path.join(base, "cgroup.subtree_control"), " ".join(f"+{c}" for c in wanted))
        except OSError as exc:
            return Support(False, False, "", f"cannot hand the cpu and memory controllers down from {parent} "
                                             f"({exc.strerror}; run as root or in a delegated cgroup)")
        self._base = {"unified": base}
        reason = f"the controller(s) {', '.join(missing)} are not available to {own_path}" if missing else ""
        return Support("cpu" in wanted, "memory" in wanted, "cgroup2", reason)

    def warn_once(self, stream=None) -> None:
        """Say once on stderr what is not enforced and why."""
        info = self.support()
        if (info.cpu and info.memory) or info.reason in self._warned:
            return
        self._warned.add(info.reason)
        what = []
        if not info.cpu:
            what.append("memory does not change a function's speed locally (no CPU quota)")
        if not info.memory:
            what.append("MemorySize is not enforced as a memory limit")
        (stream or sys.stderr).write(f"lamctl local runtime: {'; '.join(what)}: {info.reason}\n")

    # -- groups --------------------------------------------------------------------------------

    def place(self, pid: int, memory_mb: int, name: str) -> Group | None:
        """Put process ``pid`` in a new group limited as Lambda limits ``memory_mb``; None when nothing can be."""
        info = self.support()
        if not (info.cpu or info.memory):
            if not switched_off():  # asked for: nothing to say
                self.warn_once()
            return None
        if not (info.cpu and info.memory):
            self.warn_once()
        base = self._base or {}
        paths: dict[str, str] = {}
        try:
            if info.kind == "cgroup2":
                folder = os.path.join(base["unified"], name)
                os.makedirs(folder, exist_ok=True)
                paths["unified"] = folder
                if info.cpu:
                    _write(os.path.join(folder, "cpu.max"), f"{cpu_quota_us(memory_mb)} {PERIOD_US}")
                if info.memory:
                    _write(os.path.join(folder, "memory.max"), str(memory_mb * MB))
                    if os.path.exists(os.path.join(folder, "memory.swap.max")):
                        _write(os.path.join(folder, "memory.swap.max"), "0")
                _write(os.path.join(folder, "cgroup.procs"), str(pid))
            else:
                if info.cpu:
                    folder = os.path.join(base["cpu"], name)
                    os.makedirs(folder, exist_ok=True)
                    paths["cpu"] = folder
                    _write(os.path.join(folder, "cpu.cfs_period_us"), str(PERIOD_US))
                    _write(os.path.join(folder, "cpu.cfs_quota_us"), str(cpu_quota_us(memory_mb)))
                    _write(os.path.join(folder, "cgroup.procs"), str(pid))
                if info.memory:
                    folder = os.path.join(base["memory"], name)
                    os.makedirs(folder, exist_ok=True)
                    paths["memory"] = folder
                    _write(os.path.join(folder, "memory.limit_in_bytes"), str(memory_mb * MB))
                    swap = os.path.join(folder, "memory.memsw.limit_in_bytes")
                    if os.path.exists(swap):
                        try:
                            _write(swap, str(memory_mb * MB))
                        except OSError:
                            pass
                    _write(os.path.join(folder, "cgroup.procs"), str(pid))
        except OSError as exc:
            Group("", paths).remove()
            sys.stderr.write(f"lamctl local runtime: cannot limit {name} to {memory_mb} MB ({exc}); "
                             "it runs unlimited\n")
            return None
        return Group(info.kind, paths)


def _remove_tree(base: str) -> None:
    """Remove lamctl's group and what is left of its environments' groups (empty once their processes ended)."""
    try:
        for entry in os.scandir(base):
            if entry.is_dir(follow_symlinks=False):
                try:
                    os.rmdir(entry.path)
                except OSError:
                    pass
        os.rmdir(base)
    except OSError:
        pass


def _sweep(parent: str) -> None:
    """Remove the groups a lamctl process that is gone left behind (it was killed before it could)."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len("lamctl-"):]
        if not (entry.name.startswith("lamctl-") and pid.isdigit() and entry.is_dir(follow_symlinks=False)):
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running
        except ProcessLookupError:
            _remove_tree(entry.path)
        except OSError:
            continue


_LIMITS: Limits | None = None
_LIMITS_LOCK = threading.Lock()


def limits() -> Limits:
    """This process's :class:`Limits`."""
    global _LIMITS
    with _LIMITS_LOCK:
        if _LIMITS is None:
            _LIMITS = Limits()
        return _LIMITS


def support() -> Support:
    """What this machine lets the local runtime enforce (see the module's docstring)."""
    return limits().support()
