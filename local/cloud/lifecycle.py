"""The local cloud: an AWS emulator (moto's server) in a background process on 127.0.0.1.

* :func:`start` runs ``python -m lamctl.local.cloud.emulator`` (moto's server, with
  Lambda invokes run by lamctl's local runtime: see :mod:`lamctl.local.cloud.emulator`)
  bound to 127.0.0.1 only, in its own session (process group), so Ctrl-C in the
  terminal that started it does not stop it and :func:`stop` can stop it with
  everything it spawned. Once it answers, moto's own Lambda is told not to look
  for Docker (``POST /moto-api/config {"lambda": {"use_docker": false}}``).
* Its pid, port and endpoint are recorded in ``$XDG_STATE_HOME/lamctl/cloud.json``
  (default ``~/.local/state/lamctl``); the log goes beside it (``cloud.log``). The
  log holds every function's output: the folder is 0700 and its files 0600.
* :func:`status` reads that file and checks the process is alive and is ours.
* :func:`stop` sends SIGTERM to the process group (the emulator then stops its
  function processes), waits, then SIGKILL, and kills any function process
  still alive: no orphan is left.
* :func:`ensure_running` is what ``--local`` uses: the endpoint of the running
  local cloud, starting one first when there is none (and saying how to stop it).
* :func:`ensure_bucket` creates the artifact bucket on the local cloud when missing.

A lock file serialises concurrent starts (two ``lamctl --local`` at once start
one emulator, not two).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from lamctl.schemas.errors import CloudError, UsageError, error_code, http_status

from .urls import status_url

from . import moto_ext

DEFAULT_PORT = 4566
HOST = "127.0.0.1"
STATE_NAME = "cloud.json"
LOG_NAME = "cloud.log"
LOCK_NAME = "cloud.lock"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LAMBDA_CONFIG = moto_ext.LAMBDA_CONFIG

# Processes started by this interpreter, so they can be reaped (no zombie) when stopped from here too.
_children: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class CloudStatus:
    running: bool
    pid: int | None = None
    port: int | None = None
    endpoint: str | None = None
    state_file: str | None = None
    log_file: str | None = None
    started_at: float | None = None
    lambda_docker: bool | None = None  # False: Lambda invokes run without Docker
    lambda_runtime: str | None = None  # "lamctl": invokes run the deployed code through lamctl's local runtime
    environments: int | None = None  # function processes (execution environments) alive
    pending_events: list | None = None  # asynchronous events not finished (request_id, function, attempts, state)
    stale: bool = False  # a state file was found whose process is gone (it has been cleaned up)
    already: bool = False  # start() found one running and did not start another

    def to_dict(self) -> dict:
        return asdict(self)


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "lamctl"


def state_file() -> Path:
    return state_dir() / STATE_NAME


def endpoint_for(port: int) -> str:
    return f"http://{HOST}:{port}"


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    folder = state_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # lamctl's own folder: the log in it holds every function's output
    except OSError as exc:
        raise CloudError(f"cannot create the state folder {folder}: {exc.strerror}",
                         hint="set XDG_STATE_HOME to a writable folder") from None
    with _private_open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_APPEND, "a+") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- process facts -------------------------------------------------------------------------------


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is not None:
            _children.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields and fields[0] in ("Z", "X"):
                return False
        except (OSError, IndexError):
            pass
    return True


def _is_emulator(pid: int) -> bool:
    """The pid is (still) our emulator, not an unrelated process that reused the number."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            data = cmdline.read_bytes()
            return b"lamctl.local.cloud.emulator" in data or b"moto.server" in data
        except OSError:
            return False
    return True  # no /proc (macOS): the endpoint check in status() decides


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _http(method: str, url: str, body: dict | None = None, timeout: float = 2.0) -> Any:
    """A JSON request to the emulator. Its failures are OSErrors (urllib's URLError is one) or ValueErrors."""
    import urllib.request  # here, not at the top: ~25 ms that `lamctl local status` without a cloud need not pay

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    # the emulator is on loopback: never go through an HTTP proxy from the environment
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _config(endpoint: str, timeout: float = 5.0) -> dict | None:
    try:
        value = _http("GET", endpoint + moto_ext.CONFIG_PATH, timeout=timeout)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _read_state() -> dict | None:
    path = state_file()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _private_open(path: Path, flags: int, mode: str):
    """``open(path, mode)`` for a file only its owner may read (0600, an existing file too)."""
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, mode)
    except BaseException:
        os.close(fd)
        raise


def _write_state(data: dict) -> None:
    path = state_file()
    tmp = path.with_suffix(".tmp")
    with _private_open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "w") as fh:
        fh.write(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _clear_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_file().unlink()


# -- the operations ------------------------------------------------------------------------------


def _status_unlocked() -> CloudStatus:
    data = _read_state()
    if data is None:
        return CloudStatus(running=False, state_file=str(state_file()))
    pid, port = data.get("pid"), data.get("port")
    if not isinstance(pid, int) or not isinstance(port, int) or not _alive(pid) or not _is_emulator(pid):
        _clear_state()
        return CloudStatus(running=False, state_file=str(state_file()), stale=True, pid=pid if isinstance(pid, int)
                           else None, port=port if isinstance(port, int) else None)
    endpoint = data.get("endpoint") or endpoint_for(port)
    config = _config(endpoint)
    lambda_docker = None
    runtime = None
    if config is not None:
        lambda_docker = bool(config.get("lambda", {}).get("use_docker", True))
        runtime = _runtime_status(endpoint)
    return CloudStatus(running=config is not None, pid=pid, port=port, endpoint=endpoint,
                       state_file=str(state_file()), log_file=data.get("log"), started_at=data.get("started_at"),
                       lambda_docker=lambda_docker,
                       lambda_runtime=(runtime or {}).get("lambda_runtime"),
                       environments=len((runtime or {}).get("environments") or []) if runtime else None,
                       pending_events=list((runtime or {}).get("pending_events") or []) if runtime else None)


def _runtime_status(endpoint: str, timeout: float = 2.0) -> dict | None:
    """What the emulator's Lambda runtime says of itself (None from a plain moto server)."""
    try:
        value = _http("GET", status_url(endpoint), timeout=timeout)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) and value.get("lambda_runtime") else None


def status() -> CloudStatus:
    """Is the local cloud running? (A state file left by a dead process is removed.)"""
    with _locked():
        return _status_unlocked()


def start(port: int = DEFAULT_PORT, timeout: float = START_TIMEOUT) -> CloudStatus:
    """Start the emulator on 127.0.0.1:``port`` (or return the one already running, ``already=True``)."""
    if not 1 <= port <= 65535:
        raise UsageError(f"port {port} is not valid", hint="choose a port between 1 and 65535")
    with _locked():
        current = _status_unlocked()
        if current.pid is not None and current.running:
            return CloudStatus(**{**current.to_dict(), "already": True})
        if current.pid is not None and not current.stale and not current.running:
            raise CloudError(f"the local cloud (pid {current.pid}) is running but does not answer on "
                             f"{current.endpoint}", hint="stop it with 'lamctl local stop', then start it again; "
                             f"its log: {current.log_file}")
        return _spawn(port, timeout)


def _spawn(port: int, timeout: float) -> CloudStatus:
    if not _port_free(port):
        raise UsageError(f"port {port} on {HOST} is already in use by another program",
                         hint="choose another with --port, or stop the program using it")
    folder = state_dir()
    log_path = folder / LOG_NAME
    env = dict(os.environ)
    env["MOTO_PORT"] = str(port)
    env.pop("AWS_ENDPOINT_URL", None)  # the emulator talks to itself, never to a configured endpoint
    # a fresh log for each start, readable by its owner only (it holds every function's output)
    with _private_open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "wb") as log:
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "lamctl.local.cloud.emulator", "-H", HOST, "-p", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, close_fds=True, cwd=str(folder),
            )
        except OSError as exc:
            raise CloudError(f"cannot start the local cloud: {exc.strerror}", hint="check that moto[server] is "
                             "installed: pip install 'moto[server]'") from None
    _children[child.pid] = child
    endpoint = endpoint_for(port)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if child.poll() is not None:
                raise CloudError(f"the local cloud exited during start-up (exit code {child.returncode})",
                                 hint=f"see its log: {log_path}\n{_tail(log_path)}")
            if _config(endpoint, timeout=1.0) is not None:
                break
            if time.monotonic() > deadline:
                raise CloudError(f"the local cloud did not answer on {endpoint} within {timeout:.0f} s",
                                 hint=f"see its log: {log_path}")
            time.sleep(0.05)
        try:
            config = _http("POST", endpoint + moto_ext.CONFIG_PATH, LAMBDA_CONFIG, timeout=10)
        except (OSError, ValueError) as exc:
            raise CloudError(f"the local cloud started but refused its configuration: {exc}",
                             hint=f"see its log: {log_path}") from None
    except BaseException:
        _kill_group(child.pid, STOP_TIMEOUT)
        raise
    started = time.time()
    _write_state({"pid": child.pid, "port": port, "endpoint": endpoint, "log": str(log_path),
                  "started_at": started, "python": sys.executable})
    lambda_docker = bool((config or {}).get("lambda", {}).get("use_docker", True))
    runtime = _runtime_status(endpoint)
    return CloudStatus(running=True, pid=child.pid, port=port, endpoint=endpoint, state_file=str(state_file()),
                       log_file=str(log_path), started_at=started, lambda_docker=lambda_docker,
                       lambda_runtime=(runtime or {}).get("lambda_runtime"), environments=0 if runtime else None)


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join("    " + line for line in text)


def _wait_gone(pid: int, timeout: float) -> bool:
    child = _children.get(pid)
    if child is not None:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        _children.pop(pid, None)
        return True
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the emulator leads its own session: its pid is the group id
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise CloudError(f"not allowed to stop the local cloud (pid {pid}): {exc.strerror}",
                         hint="it was started by another user") from None
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def _kill_group(pid: int, timeout: float) -> None:
    _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        _signal_group(pid, signal.SIGKILL)
        _wait_gone(pid, timeout)
    # anything the emulator spawned that outlived it goes too
    _signal_group(pid, signal.SIGKILL)


def _stop_unlocked(timeout: float) -> CloudStatus:
    current = _status_unlocked()
    if current.pid is None or current.stale:
        return current
    runtime = _runtime_status(current.endpoint) if current.endpoint and current.running else None
    functions = [p for p in (runtime or {}).get("environments") or [] if isinstance(p, int)]
    _kill_group(current.pid, timeout)
    for pid in functions:  # the emulator stops them on SIGTERM; these are the ones a SIGKILL left behind
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)  # each function process leads its own group
    if _alive(current.pid):
        raise CloudError(f"the local cloud (pid {current.pid}) did not stop", hint=f"kill it: kill -9 {current.pid}")
    _clear_state()
    return CloudStatus(**{**current.to_dict(), "running": False})


def stop(timeout: float = STOP_TIMEOUT) -> CloudStatus:
    """Stop the local cloud and everything it started. Returns what was stopped
    (``pid`` None when nothing was running)."""
    with _locked():
        return _stop_unlocked(timeout)


def configured_port() -> int:
    """``LAMCTL_LOCAL_PORT`` when set, else 4566."""
    raw = os.environ.get("LAMCTL_LOCAL_PORT")
    if not raw:
        return DEFAULT_PORT
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"LAMCTL_LOCAL_PORT={raw!r} is not a port number", hint="use a number from 1 to 65535"
                         ) from None


def ensure_running(notify: Callable[[str], None] | None = None, port: int | None = None) -> str:
    """The endpoint of the local cloud, starting one when none is running (used by ``--local``)."""
    current = status()
    if current.running and current.endpoint:
        return current.endpoint
    wanted = port or configured_port()
    if not _port_free(wanted) and port is None and not os.environ.get("LAMCTL_LOCAL_PORT"):
        wanted = _free_port()  # 4566 is taken (another emulator?): any free port will do for us
    started = start(wanted)
    if notify is not None and not started.already:
        notify(f"started the local cloud at {started.endpoint} (pid {started.pid}); "
               f"it keeps running: stop it with 'lamctl local stop'")
    return started.endpoint or endpoint_for(wanted)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def ensure_bucket(s3: Any, bucket: str, region: str | None = None) -> bool:
    """Create ``bucket`` on the local cloud unless it exists; True when it was created."""
    import botocore.exceptions

    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as exc:
        if http_status(exc) != 404 and error_code(exc) not in ("404", "NoSuchBucket"):
            raise CloudError(f"cannot check the bucket {bucket!r} on the local cloud: {exc}") from None
    region = region or getattr(getattr(s3, "meta", None), "region_name", None) or "us-east-1"
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return False
        raise CloudError(f"cannot create the bucket {bucket!r} on the local cloud: {error_code(exc) or exc}",
                         hint="check the bucket name (3-63 lower-case letters, digits, dots, hyphens)") from None
    return True


def trigger(endpoint: str, rule: str) -> dict:
    """Fire the EventBridge rule, or else the EventBridge Scheduler schedule, ``rule`` (name or ARN; a schedule
    also ``group/name``) of the local cloud at ``endpoint`` now: what was fired (``rule``, ``arn``, ``targets``,
    ``schedule``; ``kind`` for a schedule)."""
    import urllib.error
    import urllib.request

    from .urls import trigger_url

    request = urllib.request.Request(trigger_url(endpoint, rule), data=b"", method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise UsageError(f"there is no EventBridge rule or schedule {rule} on the local cloud at {endpoint}",
                             where=rule, hint="name a rule or an EventBridge Scheduler schedule of a deployed stack "
                                              f"(aws events list-rules / aws scheduler list-schedules --endpoint-url "
                                              f"{endpoint}); SAM's Schedule and ScheduleV2 events make them") from None
        raise CloudError(f"the local cloud at {endpoint} could not fire rule {rule}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CloudError(f"the local cloud at {endpoint} does not answer: {exc}",
                         hint="start it with 'lamctl local start'") from None
