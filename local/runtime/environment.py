"""Execution environments: one function process each, speaking the Lambda Runtime API.

An :class:`Environment` is what Lambda calls an execution environment: a
process started from the function's code (and layers), given Lambda's
environment variables, and fed one invocation at a time through its own
:class:`~lamctl.local.runtime.runtime_api.RuntimeAPI`.

* ``python3.x`` runs AWS's runtime interface client, ``python -m awslambdaric
  <handler>``, in the code folder, so handler loading, the context object and
  error shapes are Lambda's own.
* ``provided.al2023`` / ``provided.al2`` run the code's executable ``bootstrap``.
* ``nodejsNN.x`` runs lamctl's own Node.js runtime client (``node_client.mjs``,
  beside this module) with the ``node`` on lamctl's PATH, in the code folder.

Each invocation yields an :class:`InvokeResult` whose log has Lambda's
``START`` / ``END`` / ``REPORT`` lines around the function's own output; the
memory in ``REPORT`` is the process's peak resident size (``VmHWM``). A
function running past its timeout is killed and the invocation fails with
``Task timed out after N seconds``; a process that exits mid-invocation
fails it with ``Runtime.ExitError``. Either way the environment is dead and
its pool starts a fresh one for the next invocation.
"""

from __future__ import annotations

import array
import codecs
import datetime as _dt
import errno
import fcntl
import json
import math
import os
import re
import selectors
import signal
import subprocess
import sys
import termios
import threading
import time
import uuid
from dataclasses import dataclass

from lamctl.schemas.errors import UsageError

from .limits import limits as _limits
from .runtime_api import Invocation, RuntimeAPI

INIT_LIMIT_S = 10.0  # Lambda gives init 10 s on an on-demand cold start
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
PROVIDED_RUNTIMES = ("provided.al2023", "provided.al2", "provided")
# Variables Lambda sets itself; a function's Environment cannot override them.
RESERVED = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
_PYTHON = re.compile(r"^python3\.(\d+)$")
_NODE = re.compile(r"^nodejs(\d+)\.x$")
NODE_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_client.mjs")


def find_node() -> str | None:
    """The ``node`` on lamctl's own PATH (looked up on every call: one installed later is found)."""
    import shutil

    return shutil.which("node")


@dataclass(frozen=True)
class FunctionSpec:
    """What an environment needs to know about a function: its configuration and where its code is."""

    name: str  # logical ID in the template
    runtime: str
    handler: str | None
    code_dir: str
    layer_dirs: tuple[str, ...] = ()
    memory_size: int = 128
    timeout: float = 3.0
    environment: tuple[tuple[str, str], ...] = ()
    function_name: str | None = None  # FunctionName if set, else the logical ID
    version: str = "$LATEST"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    architecture: str = "x86_64"
    reserved_concurrency: int | None = None
    credentials: tuple[tuple[str, str], ...] | None = None  # real credentials, only when asked for
    code_sha256: str = ""  # changes when the code is rebuilt
    own_code: bool = False  # code and layers are lamctl's unpacked copies (byte code may be cached in them)

    @property
    def physical_name(self) -> str:
        return self.function_name or self.name

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.physical_name}"


def _find_awslambdaric():
    """AWS's runtime interface client as the Python running lamctl finds it now, or None.

    Looked up on every call, never remembered: a long-running local cloud sees a client installed after it
    started (a miss drops the import system's cached folder listings and looks once more)."""
    import importlib
    import importlib.util

    found = importlib.util.find_spec("awslambdaric")
    if found is None:
        importlib.invalidate_caches()
        found = importlib.util.find_spec("awslambdaric")
    return found


def _runtime_paths() -> tuple[str, ...]:
    """The folder holding awslambdaric (site-packages of the Python running lamctl), for the function's path."""
    found = _find_awslambdaric()
    if found is None or not found.origin:
        return ()
    return (os.path.dirname(os.path.dirname(found.origin)),)


def _have_awslambdaric() -> bool:
    return _find_awslambdaric() is not None


def _awslambdaric_hint() -> str:
    """What to install for python3.x functions, on this machine."""
    import platform

    if sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64"):
        return (f"install it into the Python that runs lamctl ({sys.executable} -m pip install awslambdaric) "
                "and invoke again; a running local cloud picks it up without a restart")
    return (f"AWS publishes it for Linux on x86_64 and aarch64 only, and this machine is {sys.platform} on "
            f"{platform.machine() or 'an unknown processor'}: run lamctl in a Linux container (python:3.12 image) "
            "to run Python functions locally, or deploy them to AWS; custom-runtime functions (provided.al2023) "
            "run here as they are")


def check_supported(spec: FunctionSpec) -> None:
    """Refuse, with a clear message, what lamctl cannot run as a local process."""
    runtime = spec.runtime or ""
    if _PYTHON.match(runtime):
        if not spec.handler:
            raise UsageError(f"function {spec.name} has runtime {runtime} but no Handler", where=spec.name,
                             hint="set Handler: module.function (for example app.handler)")
        if not _have_awslambdaric():
            raise UsageError(f"function {spec.name} ({runtime}) needs AWS's runtime interface client "
                             "(the awslambdaric package), which is not installed", where=spec.name,
                             hint=_awslambdaric_hint())
        return
    if runtime in PROVIDED_RUNTIMES:
        return
    if _NODE.match(runtime):
        if not spec.handler:
            raise UsageError(f"function {spec.name} has runtime {runtime} but no Handler", where=spec.name,
                             hint="set Handler: file.function (for example app.handler)")
        if find_node() is None:
            raise UsageError(f"function {spec.name} ({runtime}) needs node, which is not on the PATH",
                             where=spec.name,
                             hint="install Node.js (Debian/Ubuntu: apt-get install nodejs; or https://nodejs.org) "
                                  "and invoke again")
        return
    raise UsageError(
        f"runtime {runtime or '(none)'} of function {spec.name} is not supported locally",
        where=spec.name,
        hint="lamctl runs python3.x (through awslambdaric), nodejsNN.x (with the node on the PATH) and "
             "provided.al2023 / provided.al2 (the code's executable bootstrap) as local processes; deploy other "
             "runtimes to try them",
    )


@dataclass
class InvokeResult:
    request_id: str
    payload: bytes  # the response, or Lambda's error object on failure
    error_type: str | None  # None when the function succeeded
    log: str
    duration_ms: float
    billed_ms: int
    memory_size: int
    max_memory_mb: int
    init_duration_ms: float | None
    version: str = "$LATEST"
    environment_id: str = ""

    @property
    def ok(self) -> bool:
        return self.error_type is None

    @property
    def function_error(self) -> str | None:
        """What Lambda puts in ``X-Amz-Function-Error``: ``Unhandled`` for every failure of the function."""
        return None if self.ok else "Unhandled"


def _iso_now() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _max_memory_mb(pid: int, fd: int | None = None) -> int:
    """Peak resident memory of the process (``VmHWM``), in MB rounded up; 0 once it is gone.

    ``fd``: ``/proc/<pid>/status`` kept open (read again from offset 0 each time)."""
    try:
        if fd is not None:
            data = os.pread(fd, 8192, 0)
        else:
            fd2 = os.open(f"/proc/{pid}/status", os.O_RDONLY)
            try:
                data = os.read(fd2, 8192)
            finally:
                os.close(fd2)
        i = data.index(b"VmHWM:")
        return math.ceil(int(data[i + 6:data.index(b"kB", i)]) / 1024)
    except (OSError, ValueError):
        return 0


class Environment:
    """One execution environment of one function. Not thread-safe: its pool hands it to one caller at a time."""

    def __init__(self, spec: FunctionSpec):
        check_supported(spec)
        self.spec = spec
        self.id = uuid.uuid4().hex
        self.log_stream = ""  # set when the process starts: YYYY/MM/DD/[version]id
        self.proc: subprocess.Popen | None = None
        self.api: RuntimeAPI | None = None
        self.dead = False
        self.invocations = 0
        self.spawned_at: float | None = None
        self.max_memory_mb = 0
        self._out_fd: int | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._sel = selectors.DefaultSelector()
        self._stopped = False
        self._cleaned = False
        self._invoking: int | None = None  # thread ident of the invocation in progress
        self._status_fd: int | None = None  # /proc/<pid>/status, kept open for Max Memory Used
        self._stop_lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._read_total = 0
        self._init_boundary: int | None = None
        self._group = None  # the process's control group (CPU and memory as MemorySize gives them), if any

    # -- life cycle -----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _mark_init_end(self) -> None:
        """At the runtime's first /next everything it printed during init is in the pipe: remember where
        init output ends (bytes read so far plus bytes waiting), so that it is logged before START."""
        with self._io_lock:
            pending = 0
            if self._out_fd is not None:
                buf = array.array("i", [0])
                try:
                    fcntl.ioctl(self._out_fd, termios.FIONREAD, buf, True)
                    pending = buf[0]
                except OSError:
                    pending = 0
            self._init_boundary = self._read_total + pending

    def _read_out(self) -> bytes | None:
        with self._io_lock:
            chunk = _read_available(self._out_fd)
            if chunk:
                self._read_total += len(chunk)
            return chunk

    def _notify(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def process_env(self, api_address: str) -> dict[str, str]:
        spec = self.spec
        env: dict[str, str] = {}
        for key, value in spec.environment:
            if key not in RESERVED:
                env[key] = value
        day = _dt.datetime.now(_dt.timezone.utc).strftime("%Y/%m/%d")
        self.log_stream = f"{day}/[{spec.version}]{self.id}"  # as Lambda names an environment's log stream
        path = [os.path.join(d, "bin") for d in reversed(spec.layer_dirs)]
        path += ["/usr/local/bin", "/usr/bin", "/bin"]
        libs = [os.path.join(d, "lib") for d in reversed(spec.layer_dirs)]
        env.update({
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "LAMBDA_TASK_ROOT": spec.code_dir,
            "AWS_LAMBDA_FUNCTION_NAME": spec.physical_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.physical_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": ":".join(path),
            "LD_LIBRARY_PATH": ":".join(libs + [os.path.join(spec.code_dir, "lib")]),
        })
        if spec.handler:
            env["_HANDLER"] = spec.handler
        env.update(dict(spec.credentials) if spec.credentials else DUMMY_CREDENTIALS)
        m = _PYTHON.match(spec.runtime or "")
        if m:
            version = f"python3.{m.group(1)}"
            py_path = [spec.code_dir]
            for d in reversed(spec.layer_dirs):  # a later layer wins, as when layers are unpacked into /opt in order
                py_path += [os.path.join(d, "python", "lib", version, "site-packages"), os.path.join(d, "python")]
            # The runtime's own packages (awslambdaric, and boto3 as on Lambda) come last, as /var/runtime does.
            py_path += _runtime_paths()
            env["PYTHONPATH"] = ":".join(py_path)
            if not spec.own_code:  # a source folder: leave no __pycache__ behind in it
                env["PYTHONDONTWRITEBYTECODE"] = "1"
        m = _NODE.match(spec.runtime or "")
        if m:  # as Lambda's NODE_PATH: the layers' nodejs/nodeNN/node_modules and nodejs/node_modules, then the code
            node_path = []
            for d in spec.layer_dirs:
                node_path += [os.path.join(d, "nodejs", f"node{m.group(1)}", "node_modules"),
                              os.path.join(d, "nodejs", "node_modules")]
            env["NODE_PATH"] = ":".join(node_path + [spec.code_dir])
        return env

    def _command(self) -> list[str]:
        spec = self.spec
        if _PYTHON.match(spec.runtime):
            # -S: no site processing (.pth files of lamctl's own environment); the paths are given explicitly.
            return [sys.executable, "-S", "-m", "awslambdaric", spec.handler or ""]
        if _NODE.match(spec.runtime):
            return [find_node() or "node", NODE_CLIENT]
        return [os.path.join(spec.code_dir, "bootstrap")]

    def start(self) -> None:
        """Start the process (the cold start). Raises OSError when the entry point cannot be run."""
        # The API's sockets join this environment's selector: the invoking thread serves the runtime itself.
        # No notify: everything the API does happens inside this environment's own loop.
        self.api = RuntimeAPI(on_ready=self._mark_init_end, selector=self._sel)
        env = self.process_env(self.api.address)
        self.spawned_at = time.monotonic()
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                self._command(), cwd=self.spec.code_dir, env=env, stdin=subprocess.DEVNULL,
                stdout=write_fd, stderr=write_fd, start_new_session=True, close_fds=True,
            )
        except OSError:
            os.close(read_fd)
            self.api.close()
            self.dead = True
            raise
        finally:
            os.close(write_fd)
        self._group = _limits().place(self.proc.pid, self.spec.memory_size, f"env-{self.id}")
        os.set_blocking(read_fd, False)
        self._out_fd = read_fd
        self._sel.register(read_fd, selectors.EVENT_READ, "out")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")

    def stop(self) -> None:
        """Kill the process (and anything it started), close the Runtime API. Idempotent.

        Called from another thread while an invocation runs, it kills the process and wakes the
        invoking thread, which fails the invocation and closes what it was using."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            self.dead = True
            foreign = self._invoking is not None and self._invoking != threading.get_ident()
        self._kill()
        if foreign:
            self._notify()
            return
        self._cleanup()

    def _cleanup(self) -> None:
        with self._stop_lock:
            if self._cleaned:
                return
            self._cleaned = True
        if self.api is not None:
            self.api.close()
        if self._group is not None:
            self._group.remove()
        try:
            self._sel.close()
        except (OSError, ValueError):
            pass
        with self._io_lock:
            for fd in (self._out_fd, self._wake_r, self._wake_w, self._status_fd):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._out_fd = None
            self._status_fd = None

    def invoke(self, payload: bytes, **kwargs) -> InvokeResult:
        """Run one invocation (see :meth:`_invoke` for the keywords)."""
        with self._stop_lock:
            if self.dead:
                raise RuntimeError("this execution environment is stopped; take a fresh one from the pool")
            self._invoking = threading.get_ident()
        try:
            return self._invoke(payload, **kwargs)
        finally:
            with self._stop_lock:
                self._invoking = None
                cleanup = self._stopped
            if cleanup:
                self._cleanup()

    def _kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not fail
            pass
        # Children of the runtime (a shell bootstrap's curl) die from the same signal, a moment later.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(0.002)

    # -- invoking -------------------------------------------------------------------

    def _invoke(self, payload: bytes, *, request_id: str | None = None, client_context: str | None = None,
                cognito_identity: str | None = None, trace_id: str | None = None,
                function_arn: str | None = None, on_log=None) -> InvokeResult:
        """``on_log(text)``: the log as it is produced (init output, START, the function's output as it
        writes it, then END and REPORT); the whole log is in the result either way."""
        spec = self.spec
        rid = request_id or _request_id()
        inv = Invocation(
            request_id=rid, payload=payload, function_arn=function_arn or spec.arn, timeout_s=float(spec.timeout),
            trace_id=trace_id or _trace_id(), client_context=client_context, cognito_identity=cognito_identity,
        )
        cold = self.proc is None
        init_log = bytearray()
        if cold:
            try:
                self.start()
            except OSError as exc:
                result = self._entrypoint_error(rid, exc)
                if on_log is not None:
                    on_log(result.log)
                return result
        assert self.api is not None
        self.invocations += 1
        self.api.submit(inv)
        out = bytearray()
        stream = _LogStream(on_log, rid, spec.version, cold) if on_log is not None else None
        failure: tuple[str, str, str] | None = None  # (errorType, errorMessage, log line)
        init_error: dict | None = None
        eof = False
        while not inv.done.is_set():
            now = time.monotonic()
            if self.api.init_error is not None:
                init_error = self.api.init_error
                break
            if eof:
                failure = self._exit_failure(rid)
                break
            if inv.started is not None:
                deadline = inv.started + spec.timeout
            elif cold or not self.api.ready:
                deadline = (self.spawned_at or now) + INIT_LIMIT_S + spec.timeout
            else:
                deadline = now + spec.timeout + 5  # a warm runtime takes the invocation at once
            if now >= deadline:
                failure = self._timeout_failure(rid)
                break
            if self._stopped:  # stopped from another thread (the pool is closing)
                failure = self._exit_failure(rid)
                break
            try:
                events = self._sel.select(deadline - now)
            except (OSError, ValueError, KeyError, RuntimeError):
                events = []
                eof = True
            for key, _ in events:
                if key.data == "out":
                    chunk = self._read_out()
                    if chunk is None:
                        eof = True
                    else:
                        out += chunk
                elif key.data == "wake":
                    _drain(self._wake_r)
                else:
                    self.api.on_readable(key.fileobj)
            if stream is not None:
                stream.update(out, self._init_boundary, inv.started is not None)
        # Whatever the function wrote before it answered is in the pipe by now.
        if self._out_fd is not None:
            rest = self._read_out()
            if rest:
                out.extend(rest)
        if cold:  # split what the process printed into init output and the invocation's own
            boundary = self._init_boundary if self._init_boundary is not None else len(out)
            init_log, out = out[:boundary], out[boundary:]
        end = time.monotonic()
        init_ms = None
        if cold and self.api.ready_at is not None and self.spawned_at is not None:
            init_ms = (self.api.ready_at - self.spawned_at) * 1000
        elif cold and self.spawned_at is not None:
            init_ms = ((inv.started or end) - self.spawned_at) * 1000
        if inv.done.is_set():
            duration = ((inv.finished or end) - (inv.started or end)) * 1000
            if inv.status == "response":
                error_type, body = None, inv.body
            else:
                error_type, body = inv.error_type or "Unhandled", _error_body(inv.body, inv.error_type)
        elif init_error is not None:
            duration = 0.0
            error_type = self.api.init_error_type or init_error.get("errorType") or "Runtime.Unknown"
            body = json.dumps(init_error).encode()
            self.stop()
        else:
            assert failure is not None
            error_type, message, line = failure
            duration = (spec.timeout * 1000) if error_type == "Sandbox.Timedout" else \
                ((end - inv.started) * 1000 if inv.started else 0.0)
            body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
            out += line.encode() + b"\n"
        pid = self.pid
        if pid is not None and not self.dead:
            if self._status_fd is None:
                try:
                    self._status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
                except OSError:
                    pass
            self.max_memory_mb = max(self.max_memory_mb, _max_memory_mb(pid, self._status_fd))
        if self.api is not None:
            self.api.abandon()
        billed = max(1, math.ceil(duration))
        report = (f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
                  f"Memory Size: {spec.memory_size} MB\tMax Memory Used: {self.max_memory_mb} MB\t")
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        text = init_log.decode("utf-8", "replace")
        if text and not text.endswith("\n"):
            text += "\n"
        text += f"START RequestId: {rid} Version: {spec.version}\n"
        body_text = out.decode("utf-8", "replace")
        text += body_text
        if body_text and not body_text.endswith("\n"):
            text += "\n"
        text += f"END RequestId: {rid}\n{report}\n"
        if stream is not None:
            stream.finish(text)
        return InvokeResult(
            request_id=rid, payload=body, error_type=error_type, log=text, duration_ms=duration,
            billed_ms=billed, memory_size=spec.memory_size, max_memory_mb=self.max_memory_mb,
            init_duration_ms=init_ms, version=spec.version, environment_id=self.id,
        )

    def _timeout_failure(self, rid: str) -> tuple[str, str, str]:
        self.max_memory_mb = max(self.max_memory_mb, _max_memory_mb(self.pid)) if self.pid else self.max_memory_mb
        self.stop()
        seconds = f"{float(self.spec.timeout):.2f}"
        return ("Sandbox.Timedout", f"RequestId: {rid} Error: Task timed out after {seconds} seconds",
                f"{_iso_now()} {rid} Task timed out after {seconds} seconds")

    def _exit_failure(self, rid: str) -> tuple[str, str, str]:
        proc = self.proc
        status = None
        if proc is not None:
            try:
                status = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                status = None
        out_of_memory = self._group is not None and self._group.out_of_memory()
        self.stop()
        if status is None:
            reason = "Runtime closed its output and stopped answering"
        elif status < 0:
            reason = f"Runtime exited with error: signal: {_signal_name(-status)}"
        elif status == 0:
            reason = "Runtime exited without providing a reason"
        else:
            reason = f"Runtime exited with error: exit status {status}"
        message = f"RequestId: {rid} Error: {reason}"
        if out_of_memory:  # the kernel ended it at its MemorySize, as Lambda does
            self.max_memory_mb = self.spec.memory_size
            return ("Runtime.OutOfMemory", message, f"{message}\nRuntime.OutOfMemory")
        return ("Runtime.ExitError", message, f"{message}\nRuntime.ExitError")

    def _entrypoint_error(self, rid: str, exc: OSError) -> InvokeResult:
        if exc.errno == errno.ENOENT:
            message = f"Couldn't find valid bootstrap(s): [{os.path.join(self.spec.code_dir, 'bootstrap')}]"
        elif exc.errno == errno.EACCES:
            message = f"{os.path.join(self.spec.code_dir, 'bootstrap')} is not executable (chmod +x bootstrap)"
        elif exc.errno == errno.ENOEXEC:
            message = _foreign_executable(os.path.join(self.spec.code_dir, "bootstrap"), self.spec.architecture)
        else:
            message = f"cannot start the runtime: {exc.strerror}"
        body = json.dumps({"errorType": "Runtime.InvalidEntrypoint", "errorMessage": message}).encode()
        log = (f"START RequestId: {rid} Version: {self.spec.version}\n{message}\nRuntime.InvalidEntrypoint\n"
               f"END RequestId: {rid}\n"
               f"REPORT RequestId: {rid}\tDuration: 0.00 ms\tBilled Duration: 1 ms\t"
               f"Memory Size: {self.spec.memory_size} MB\tMax Memory Used: 0 MB\t\n")
        self.stop()
        return InvokeResult(rid, body, "Runtime.InvalidEntrypoint", log, 0.0, 1, self.spec.memory_size, 0, None,
                            self.spec.version, self.id)


_ELF_MACHINES = {0x3E: "x86_64", 0xB7: "arm64", 0x03: "x86 (32-bit)", 0x28: "arm (32-bit)"}


def _foreign_executable(path: str, architecture: str) -> str:
    """Why the kernel refused to run ``path`` (ENOEXEC): most often a binary built for another processor."""
    import platform

    host = {"aarch64": "arm64", "amd64": "x86_64"}.get(platform.machine(), platform.machine() or "unknown")
    try:
        with open(path, "rb") as fh:
            head = fh.read(20)
    except OSError:
        head = b""
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
        built = _ELF_MACHINES.get(machine, "another processor")
        if built != host:
            return (f"{path} is built for {built} (Architectures: {architecture}) and this machine is {host}, so it "
                    f"cannot run here: to run it locally, set Architectures: [{host}] (on AWS either runs), or run "
                    f"lamctl on an {built} machine")
    return f"{path} is not an executable this machine can run (Exec format error); a script needs a #! line"


class _LogStream:
    """Passes an invocation's log on while it is produced, as the same text the result will hold."""

    def __init__(self, sink, rid: str, version: str, cold: bool):
        self.sink = sink
        self.start_line = f"START RequestId: {rid} Version: {version}\n"
        self.cold = cold
        self.sent = 0  # bytes of the output buffer passed on
        self.started = False  # START passed on
        self.emitted: list[str] = []
        self._init_decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def _emit(self, text: str) -> None:
        if text:
            self.emitted.append(text)
            self.sink(text)

    def update(self, out: bytearray, boundary: int | None, taken: bool) -> None:
        if not self.started:
            if self.cold:
                limit = boundary if boundary is not None else len(out)
                if self.sent < limit:
                    self._emit(self._init_decoder.decode(bytes(out[self.sent:limit])))
                    self.sent = limit
                if boundary is None or not taken:
                    return
                tail = self._init_decoder.decode(b"", True)
                self._emit(tail)
                if self.emitted and not self.emitted[-1].endswith("\n"):
                    self._emit("\n")
            self._emit(self.start_line)
            self.started = True
        if self.sent < len(out):
            self._emit(self._decoder.decode(bytes(out[self.sent:])))
            self.sent = len(out)

    def finish(self, text: str) -> None:
        """Pass on the rest of ``text`` (the whole log): what was not passed on yet."""
        done = "".join(self.emitted)
        if text.startswith(done):
            rest = text[len(done):]
        else:  # the pieces were cut differently (an init failure, broken UTF-8): end cleanly
            end = text.rfind("END RequestId: ")
            rest = ("" if done.endswith("\n") else "\n") + text[end:]
        self._emit(rest)


def _error_body(body: bytes, error_type: str | None) -> bytes:
    """The error object as Lambda returns it: the runtime's JSON, or the text wrapped in one."""
    try:
        data = json.loads(body)
        if isinstance(data, dict):
            return body
    except ValueError:
        pass
    return json.dumps({"errorMessage": body.decode("utf-8", "replace"),
                       "errorType": error_type or "Unhandled"}).encode()


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (zombies waiting for their reaper do not count)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _request_id() -> str:
    """A random (version 4) UUID as text, without the cost of building a uuid.UUID."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    x = b.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def _trace_id() -> str:
    rand = os.urandom(20).hex()
    return f"Root=1-{int(time.time()):08x}-{rand[:24]};Parent={rand[24:]};Sampled=0"


def _signal_name(num: int) -> str:
    try:
        return {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGTERM: "terminated",
                signal.SIGABRT: "aborted"}.get(num) or signal.Signals(num).name
    except ValueError:
        return str(num)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, OSError):
        pass


def _read_available(fd: int | None) -> bytes | None:
    """All bytes waiting in the pipe; b"" if none; None at end of file."""
    if fd is None:
        return None
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        except OSError:
            return None if not chunks else b"".join(chunks)
        if not chunk:
            if chunks:
                break
            return None
        chunks.append(chunk)
        if len(chunk) < 65536:
            break
    return b"".join(chunks)
