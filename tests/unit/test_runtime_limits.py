"""The local runtime's CPU and memory limits from MemorySize: the figures, and the cgroup files written for
cgroup v2 and v1 (on folders laid out as cgroupfs is), what is said where nothing can be limited, and how an
out-of-memory kill is recognised. tests/functional/test_tune.py runs them on this machine's real cgroups."""

from __future__ import annotations

import io
import os

import pytest

from lamctl.local.runtime.limits import Group, Limits, cpu_quota_us, cpu_share

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def limits_on(monkeypatch):
    monkeypatch.setenv("LAMCTL_LOCAL_LIMITS", "on")


def _write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def _read(path):
    with open(path) as fh:
        return fh.read()


def test_cpu_follows_memory_one_vcpu_at_1769_mb():
    assert cpu_share(1769) == 1.0 and cpu_share(3538) == 2.0
    assert cpu_quota_us(1769) == 100_000
    assert cpu_quota_us(128) == 7236  # 128/1769 of a 100 ms period
    assert cpu_quota_us(10240) == 578_858  # more than five CPUs' time at the largest size
    assert cpu_quota_us(1) == 1000  # never below the kernel's smallest quota


def test_cgroup_v2_gets_cpu_max_memory_max_and_the_process(tmp_path):
    root = tmp_path / "cg"
    _write(str(root / "cgroup.controllers"), "cpuset cpu io memory pids\n")
    own = root / "user.slice" / "me"
    _write(str(own / "cgroup.controllers"), "cpu memory pids\n")
    _write(str(tmp_path / "proc-self-cgroup"), "0::/user.slice/me\n")
    limits = Limits(str(root), str(tmp_path / "proc-self-cgroup"))
    info = limits.support()
    assert (info.cpu, info.memory, info.kind) == (True, True, "cgroup2")
    assert _read(str(own / "cgroup.subtree_control")) == "+cpu +memory"
    group = limits.place(4242, 256, "env-a")
    folder = own / f"lamctl-{os.getpid()}" / "env-a"
    assert _read(str(folder / "cpu.max")) == "14471 100000"
    assert _read(str(folder / "memory.max")) == str(256 * MB)
    assert _read(str(folder / "cgroup.procs")) == "4242"
    assert group.paths == {"unified": str(folder)}


def test_cgroup_v2_without_the_controllers_says_why(tmp_path):
    root = tmp_path / "cg"
    _write(str(root / "cgroup.controllers"), "cpu memory\n")
    _write(str(root / "box" / "cgroup.controllers"), "pids\n")
    _write(str(tmp_path / "self"), "0::/box\n")
    limits = Limits(str(root), str(tmp_path / "self"))
    info = limits.support()
    assert not info.cpu and not info.memory and "/box" in info.reason
    stream = io.StringIO()
    limits.warn_once(stream)
    limits.warn_once(stream)
    text = stream.getvalue()
    assert text.count("\n") == 1  # said once
    assert "memory does not change a function's speed locally" in text
    assert "MemorySize is not enforced as a memory limit" in text


def test_cgroup_v1_gets_a_cfs_quota_and_a_memory_limit_in_each_hierarchy(tmp_path):
    root = tmp_path / "cg"
    _write(str(root / "cpu" / "cpu.cfs_quota_us"), "-1")
    _write(str(root / "memory" / "memory.limit_in_bytes"), "9223372036854771712")
    _write(str(tmp_path / "self"), "4:memory:/box/one\n2:cpu,cpuacct:/\n0::/\n")
    limits = Limits(str(root), str(tmp_path / "self"))
    info = limits.support()
    assert (info.cpu, info.memory, info.kind) == (True, True, "cgroup1")
    limits.place(777, 3008, "env-b")
    cpu = root / "cpu" / f"lamctl-{os.getpid()}" / "env-b"
    mem = root / "memory" / "box" / "one" / f"lamctl-{os.getpid()}" / "env-b"
    assert _read(str(cpu / "cpu.cfs_quota_us")) == "170040" and _read(str(cpu / "cpu.cfs_period_us")) == "100000"
    assert _read(str(mem / "memory.limit_in_bytes")) == str(3008 * MB)
    assert _read(str(cpu / "cgroup.procs")) == "777" == _read(str(mem / "cgroup.procs"))


def test_no_cgroups_no_group_and_one_warning(tmp_path, capsys):
    limits = Limits(str(tmp_path / "none"), str(tmp_path / "none-self"))
    assert limits.place(1, 128, "env-c") is None
    assert limits.place(2, 128, "env-d") is None
    err = capsys.readouterr().err
    assert err.count("memory does not change a function's speed locally") == 1


def test_turned_off_writes_nothing_and_says_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAMCTL_LOCAL_LIMITS", "off")
    root = tmp_path / "cg"
    _write(str(root / "cpu" / "cpu.cfs_quota_us"), "-1")
    limits = Limits(str(root), str(tmp_path / "self"))
    assert limits.place(1, 128, "env-e") is None
    assert "LAMCTL_LOCAL_LIMITS=off" in limits.support().reason
    assert sorted(os.listdir(root / "cpu")) == ["cpu.cfs_quota_us"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kind,name,text,expected", [
    ("cgroup2", "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n", True),
    ("cgroup2", "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", False),
    ("cgroup1", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", True),
    ("cgroup1", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", False),
])
def test_an_out_of_memory_kill_is_recognised(tmp_path, kind, name, text, expected):
    _write(str(tmp_path / name), text)
    _write(str(tmp_path / "memory.failcnt"), "0")
    key = "unified" if kind == "cgroup2" else "memory"
    assert Group(kind, {key: str(tmp_path)}).out_of_memory() is expected


def test_groups_a_killed_lamctl_left_behind_are_removed(tmp_path):
    import subprocess
    import sys

    root = tmp_path / "cg"
    _write(str(root / "cpu" / "cpu.cfs_quota_us"), "-1")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    os.makedirs(root / "cpu" / f"lamctl-{dead}" / "env-old")
    os.makedirs(root / "cpu" / "lamctl-1" / "env-init")  # pid 1 runs: kept
    Limits(str(root), str(tmp_path / "self")).support()
    left = sorted(os.listdir(root / "cpu"))
    assert f"lamctl-{dead}" not in left and "lamctl-1" in left and f"lamctl-{os.getpid()}" in left
