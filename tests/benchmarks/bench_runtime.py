"""On demand: the local Lambda runtime, cold and warm.

Run: ``python tests/benchmarks/bench_runtime.py [--warm N]``. In one run it measures

* a cold ``lamctl local invoke`` of a Python hello function, whole process (build cache
  warm, a new function process each time), median of several runs;
* the same for a Node.js hello function (``nodejsNN.x`` for the ``node`` on PATH, run through
  lamctl's own Runtime API client), cold and warm through ``start-lambda`` over raw HTTP;
* N warm invocations (default 1,000) through ``lamctl local start-lambda``, over raw HTTP
  (one kept-alive connection per caller) and through boto3, with 1 and 2 concurrent
  callers: p50 / p99 latency and invocations per second;
* the same function deployed to the local cloud (``python -m lamctl.local.cloud.emulator``) and
  invoked through boto3, next to moto's own server answering the same invocations by
  echoing the payload (what the local cloud did before it ran code): the cost of really
  running the function, on top of the emulator's own request handling;
* the Go hello world (samples/hello-go, ``BuildMethod: go1.x``) next to it, when ``go`` is on PATH:
  ``lamctl build`` (``go build`` with Go's build cache warm, then unchanged), a cold ``lamctl local
  invoke`` and N warm invocations through ``start-lambda`` over raw HTTP. Modules come through your
  Go settings, else the offline proxy ``../shared/goproxy`` beside the repository.

The peer is ``sam local invoke`` (Docker): run when ``sam`` is on PATH (or ``LAMCTL_BENCH_SAM``
names it) and Docker answers; otherwise only our side is printed. Goals (issue 6): cold
<= 300 ms, warm p50 <= 2 ms over raw HTTP, >= 1,000 invocations/s with 2 callers. Nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python3.12
      Timeout: 10
      Events:
        Get:
          Type: Api
          Properties: {Path: /hello, Method: get}
"""
APP = """
import json

def handler(event, context):
    if "httpMethod" in event:  # through start-api: a proxy answer
        name = (event.get("queryStringParameters") or {}).get("name", "world")
        return {"statusCode": 200, "body": json.dumps({"hello": name})}
    return {"hello": event.get("name", "world")}
"""
NODE_APP = """\
export const handler = async (event) => {
  if (event.httpMethod) {
    return { statusCode: 200, body: JSON.stringify({ hello: event.queryStringParameters?.name ?? "world" }) };
  }
  return { hello: event.name ?? "world" };
};
"""


def _node_project(root: str) -> str | None:
    """The hello function as a Node.js ES module, for the node on PATH (None without one)."""
    node = shutil.which("node")
    if not node:
        return None
    major = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0]
    os.makedirs(os.path.join(root, "hello"))
    with open(os.path.join(root, "hello", "app.mjs"), "w") as fh:
        fh.write(NODE_APP)
    with open(os.path.join(root, "template.yaml"), "w") as fh:
        fh.write(TEMPLATE.replace("Runtime: python3.12", f"Runtime: nodejs{major}.x"))
    return root


def _project(root: str) -> str:
    os.makedirs(os.path.join(root, "hello"))
    with open(os.path.join(root, "hello", "app.py"), "w") as fh:
        fh.write(textwrap.dedent(APP))
    with open(os.path.join(root, "template.yaml"), "w") as fh:
        fh.write(TEMPLATE)
    return root


def _lamctl() -> list[str]:
    exe = shutil.which("lamctl", path=os.path.dirname(sys.executable)) or shutil.which("lamctl")
    return [exe] if exe else [sys.executable, "-m", "lamctl.cli"]


def _timed(cmd: list[str], root: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall ms, CPU ms of the command and its children, result)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    wall = (time.perf_counter() - t) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return wall, cpu, out


def cold(root: str, runs: int) -> tuple[list[float], list[float]]:
    cmd = _lamctl() + ["local", "invoke", "Hello"]
    subprocess.run(cmd, cwd=root, check=True, capture_output=True)  # fills the build cache
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, out = _timed(cmd, root)
        assert out.returncode == 0 and json.loads(out.stdout) == {"hello": "world"}, out
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def cli_baseline(root: str, runs: int) -> tuple[list[float], list[float]]:
    """``lamctl --version``: what starting the command line costs before any command runs."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, out = _timed(_lamctl() + ["--version"], root)
        assert out.returncode == 0, out
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def sam_cold(root: str, runs: int) -> list[float] | None:
    sam = os.environ.get("LAMCTL_BENCH_SAM") or shutil.which("sam")
    if not sam:
        return None
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return None
    cmd = [sam, "local", "invoke", "Hello", "--event", "-"]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(cmd, cwd=root, capture_output=True, text=True, input="{}")
        if out.returncode != 0:
            return None
        times.append((time.perf_counter() - t) * 1000)
    return times


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_caller(port: int, n: int, out: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    body = b'{"name": "bench"}'
    path = "/2015-03-31/functions/Hello/invocations"
    for _ in range(n):
        t = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200 and json.loads(data) == {"hello": "bench"}, (resp.status, data)
    conn.close()


def _api_caller(port: int, n: int, out: list[float]) -> None:
    """GET /hello through `lamctl local start-api` (the function answers a plain object: a 502 from the API
    would mean a malformed proxy answer, so the handler's dict is checked as the response body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", "/hello?name=bench")
        resp = conn.getresponse()
        data = resp.read()
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200 and json.loads(data) == {"hello": "bench"}, (resp.status, data)
    conn.close()


def _boto_caller(port: int, n: int, out: list[float], expect: bytes = b'{"hello": "bench"}') -> None:
    import boto3

    lam = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for _ in range(n):
        t = time.perf_counter()
        resp = lam.invoke(FunctionName="Hello", Payload=b'{"name": "bench"}')
        data = resp["Payload"].read()
        out.append((time.perf_counter() - t) * 1000)
        assert data == expect, data


def _echo_caller(port: int, n: int, out: list[float]) -> None:
    _boto_caller(port, n, out, expect=b'{"name": "bench"}')


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GO_SAMPLE = os.path.join(REPO, "samples", "hello-go")
GOPROXY_DIR = os.path.join(os.path.dirname(REPO), "shared", "goproxy")


def _go_raw_caller(port: int, n: int, out: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        t = time.perf_counter()
        conn.request("POST", "/2015-03-31/functions/HelloGoFunction/invocations", body=b'{"name": "bench"}',
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200 and json.loads(data) == {"message": "Hello, bench!"}, (resp.status, data)
    conn.close()


def go_section(root: str, runs: int, total: int) -> None:
    """The Go hello world: build, cold local invoke, warm invocations through start-lambda."""
    if not shutil.which("go"):
        print("Go: not measured (no go on PATH; Debian: apt-get install golang-go)")
        return
    gocache = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True).stdout.strip()
    # lamctl's own cache in a folder of its own; Go's stays the user's (else every build would be cold)
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(root, "cache"), GOCACHE=gocache)
    if "GOPROXY" not in os.environ and os.path.isdir(GOPROXY_DIR):
        env.update(GOPROXY=f"file://{GOPROXY_DIR}", GOSUMDB="off")
    project = os.path.join(root, "hello-go")
    shutil.copytree(GO_SAMPLE, project, ignore=shutil.ignore_patterns(".lamctl"))
    build = _lamctl() + ["build"]
    subprocess.run(build, cwd=project, env=env, check=True, capture_output=True)  # Go's build cache filled
    builds, unchanged = [], []
    for _ in range(3):
        shutil.rmtree(os.path.join(root, "cache"), ignore_errors=True)  # lamctl's cache empty: go build runs
        for times in (builds, unchanged):  # built, then unchanged
            t = time.perf_counter()
            out = subprocess.run(build, cwd=project, env=env, capture_output=True, text=True)
            times.append((time.perf_counter() - t) * 1000)
            assert out.returncode == 0, out
        assert "0 built, 1 unchanged" in out.stderr, out
    print(f"Go: `lamctl build` of samples/hello-go (go build, Go's build cache warm): median "
          f"{statistics.median(builds):.0f} ms; unchanged: median {statistics.median(unchanged):.0f} ms")
    cmd = _lamctl() + ["local", "invoke", "HelloGoFunction", "-e", "-"]
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, input='{"name": "Go"}')
        walls.append((time.perf_counter() - t) * 1000)
        assert out.returncode == 0 and json.loads(out.stdout) == {"message": "Hello, Go!"}, out
    print(f"Go: cold `lamctl local invoke` (whole process, {runs} runs): median {statistics.median(walls):.0f} ms, "
          f"min {min(walls):.0f} ms, max {max(walls):.0f} ms")
    port = _free_port()
    server = subprocess.Popen(_lamctl() + ["local", "start-lambda", "--port", str(port)], cwd=project, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(20):
            line = server.stderr.readline()
            if f"127.0.0.1:{port}" in line or not line:
                break
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        for callers in (1, 2):
            r = warm(port, _go_raw_caller, total, callers)
            print(f"Go: warm via start-lambda, raw HTTP {callers} caller(s): {r['n']} invocations, "
                  f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['per_s']:.0f}/s")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def _wait_http(port: int, proc: subprocess.Popen, log: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log, errors="replace") as fh:
                raise RuntimeError(f"the emulator exited ({proc.returncode}): {fh.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/moto-api/config")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not answer")


def _deploy_hello(port: int, docker_free: bool) -> None:
    import io
    import zipfile

    import boto3

    kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    if docker_free:  # moto's own server: invocations answered without Docker (echo)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("POST", "/moto-api/config", body=json.dumps({"lambda": {"use_docker": False}}))
        conn.getresponse().read()
    role = boto3.client("iam", **kw).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", textwrap.dedent(APP))
    boto3.client("lambda", **kw).create_function(FunctionName="Hello", Runtime="python3.12", Role=role,
                                                 Handler="app.handler", Code={"ZipFile": buf.getvalue()})


def cloud(total: int) -> None:
    for label, module, caller in (("lamctl local cloud (runs the code)", "lamctl.local.cloud.emulator", _boto_caller),
                                  ("moto server (echoes the payload)", "moto.server", _echo_caller)):
        port = _free_port()
        log = tempfile.NamedTemporaryFile(prefix="lamctl-bench-emulator-", suffix=".log", delete=False)
        proc = subprocess.Popen([sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_http(port, proc, log.name)
            _deploy_hello(port, docker_free=module == "moto.server")
            for callers in (1, 2):
                r = warm(port, caller, total, callers)
                print(f"warm via {label}, boto3 {callers} caller(s): {r['n']} invocations, "
                      f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['per_s']:.0f}/s")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
            log.close()
            os.unlink(log.name)


def warm(port: int, caller, total: int, callers: int) -> dict:
    per = total // callers
    results: list[list[float]] = [[] for _ in range(callers)]
    caller(port, 20, [])  # environments started and warm
    threads = [threading.Thread(target=caller, args=(port, per, results[i])) for i in range(callers)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    lat = sorted(x for r in results for x in r)
    return {"n": len(lat), "p50": statistics.median(lat), "p99": lat[int(len(lat) * 0.99) - 1],
            "per_s": len(lat) / wall}


def start_lambda(root: str, total: int, label: str, callers_list=(1, 2), callers_fns=None) -> None:
    """Warm invocations through `lamctl local start-lambda` serving ``root``."""
    port = _free_port()
    server = subprocess.Popen(_lamctl() + ["local", "start-lambda", "--port", str(port)], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(20):  # warnings, then the "listening" line
            line = server.stderr.readline()
            if f"127.0.0.1:{port}" in line or not line:
                break
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # drain logs
        for name, caller in callers_fns or (("raw HTTP", _raw_caller),):
            for callers in callers_list:
                r = warm(port, caller, total, callers)
                print(f"warm via start-lambda, {label}{name:8s} {callers} caller(s): {r['n']} invocations, "
                      f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['per_s']:.0f}/s")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def node(total: int, runs: int) -> None:
    root = _node_project(tempfile.mkdtemp(prefix="lamctl-bench-runtime-node-"))
    if root is None:
        print("Node.js: not measured (no node on PATH)")
        return
    try:
        ours, ours_cpu = cold(root, runs)
        print(f"cold `lamctl local invoke` of the Node.js function ({len(ours)} runs): median "
              f"{statistics.median(ours):.0f} ms, min {min(ours):.0f} ms, max {max(ours):.0f} ms; "
              f"CPU median {statistics.median(ours_cpu):.0f} ms")
        start_lambda(root, total, "Node.js ")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm", type=int, default=1000)
    ap.add_argument("--go-only", action="store_true", help="measure only the Go function")
    ap.add_argument("--cold-runs", type=int, default=7)
    ap.add_argument("--only-node", action="store_true", help="measure the Node.js function only")
    args = ap.parse_args()
    if args.only_node:
        node(args.warm, args.cold_runs)
        return
    root = _project(tempfile.mkdtemp(prefix="lamctl-bench-runtime-"))
    if args.go_only:
        try:
            go_section(root, args.cold_runs, args.warm)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    try:
        ours, ours_cpu = cold(root, args.cold_runs)
        base, base_cpu = cli_baseline(root, args.cold_runs)
        peer = sam_cold(root, 3)
        print(f"cold `lamctl local invoke` (whole process, {len(ours)} runs): median {statistics.median(ours):.0f} ms, "
              f"min {min(ours):.0f} ms, max {max(ours):.0f} ms; CPU median {statistics.median(ours_cpu):.0f} ms "
              f"(goal <= 300 ms)")
        print(f"  of which starting the CLI (`lamctl --version`): median {statistics.median(base):.0f} ms, "
              f"CPU {statistics.median(base_cpu):.0f} ms")
        print(f"load average at the start: {os.getloadavg()[0]:.1f}")
        if peer:
            print(f"cold `sam local invoke` (Docker): median {statistics.median(peer):.0f} ms; "
                  f"ratio sam/lamctl {statistics.median(peer) / statistics.median(ours):.1f}x")
        else:
            print("peer `sam local invoke`: not measured (sam not installed or Docker not answering)")

        port = _free_port()
        server = subprocess.Popen(_lamctl() + ["local", "start-lambda", "--port", str(port)], cwd=root,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(20):  # warnings, then the "listening" line
                line = server.stderr.readline()
                if f"127.0.0.1:{port}" in line or not line:
                    break
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # drain logs
            for label, caller in (("raw HTTP", _raw_caller), ("boto3", _boto_caller)):
                for callers in (1, 2):
                    r = warm(port, caller, args.warm, callers)
                    print(f"warm via start-lambda, {label:8s} {callers} caller(s): {r['n']} invocations, "
                          f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['per_s']:.0f}/s")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        port = _free_port()
        server = subprocess.Popen(_lamctl() + ["local", "start-api", "--port", str(port)], cwd=root,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(20):
                line = server.stderr.readline()
                if f"127.0.0.1:{port}" in line or not line:
                    break
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
            for callers in (1, 2):
                r = warm(port, _api_caller, args.warm, callers)
                print(f"warm via start-api, GET /hello {callers} caller(s): {r['n']} requests, "
                      f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['per_s']:.0f}/s "
                      f"(sam local start-api: a Docker container per request)")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        node(args.warm, args.cold_runs)
        cloud(args.warm)
        go_section(root, args.cold_runs, args.warm)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"machine: {os.cpu_count()} CPUs; goals: warm p50 <= 2 ms raw HTTP, >= 1,000/s with 2 callers")


if __name__ == "__main__":
    main()
