"""On demand: ``lamctl sync --watch`` on the local cloud, from saving a file to an invoke returning the new answer.

Run: ``python tests/benchmarks/bench_sync.py [--rounds N]``. It starts the local cloud's emulator
(``python -m lamctl.local.cloud.emulator``) on a free port, deploys a one-function SAM app with
``AutoPublishAlias: live`` through ``lamctl sync`` (its first sync deploys), then:

* starts ``lamctl sync --watch`` and, N times (default 5), saves a new ``app.py`` and invokes
  ``F:live`` until it answers the new value: save-to-new-answer (watcher poll + debounce, build,
  UpdateFunctionCode, wait, PublishVersion, UpdateAlias, a cold environment of the new version);
* for comparison, a one-shot ``lamctl sync`` of a code change and a ``lamctl deploy`` of one
  (the change set path ``sync`` avoids), whole process each.

Nothing here asserts a time.
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
import time

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: bench-sync
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
"""
APP = "def handler(event, context):\n    return {{\"answer\": {n}}}\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the emulator exited ({proc.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/moto-api/config")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not answer")


def _lamctl(endpoint: str) -> list[str]:
    return [sys.executable, "-m", "lamctl.cli", "--endpoint-url", endpoint]


def _answer(lam) -> int | None:
    resp = lam.invoke(FunctionName="bench-sync", Qualifier="live", Payload=b"{}")
    try:
        return json.loads(resp["Payload"].read()).get("answer")
    except (ValueError, AttributeError):
        return None


def _save(root: str, n: int) -> None:
    path = os.path.join(root, "src", "app.py")
    with open(path, "w") as f:
        f.write(APP.format(n=n))


def _timed(cmd: list[str], cwd: str) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import boto3

    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1")
    os.environ.update(env)
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen([sys.executable, "-m", "lamctl.local.cloud.emulator", "-H", "127.0.0.1",
                                 "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    root = tempfile.mkdtemp(prefix="lamctl-bench-sync-")
    watcher = None
    try:
        _wait_http(port, emulator)
        os.makedirs(os.path.join(root, "src"))
        with open(os.path.join(root, "template.yaml"), "w") as f:
            f.write(TEMPLATE)
        with open(os.path.join(root, "lamctl.toml"), "w") as f:
            f.write('[default]\ntarget = "local"\nstack = "bench-sync"\n')
        _save(root, 0)
        first = _timed(_lamctl(endpoint) + ["sync"], root)
        print(f"first lamctl sync (deploys the stack): {first:.2f} s")
        lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
        assert _answer(lam) == 0

        n = 1
        _save(root, n)
        one_shot = _timed(_lamctl(endpoint) + ["sync"], root)
        assert _answer(lam) == n
        n += 1
        _save(root, n)
        deploy = _timed(_lamctl(endpoint) + ["deploy", "--yes"], root)
        assert _answer(lam) == n
        print(f"one code change, one-shot lamctl sync: {one_shot:.2f} s; lamctl deploy: {deploy:.2f} s")

        watcher = subprocess.Popen(_lamctl(endpoint) + ["sync", "--watch"], cwd=root, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        # the watch starts with a sync (nothing to push after the deploy); then it watches
        line = ""
        while "watching" not in line:
            line = watcher.stderr.readline()
            if not line and watcher.poll() is not None:
                raise RuntimeError("lamctl sync --watch exited")
        times = []
        for _ in range(args.rounds):
            n += 1
            time.sleep(0.5)  # apart from the last push
            t = time.perf_counter()
            _save(root, n)
            while _answer(lam) != n:
                if time.perf_counter() - t > 60:
                    raise RuntimeError("the new answer did not arrive within 60 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - t)
        print(f"lamctl sync --watch, save to new answer from F:live, {len(times)} rounds: "
              f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")
    finally:
        if watcher is not None:
            os.killpg(watcher.pid, signal.SIGINT)
            watcher.wait(timeout=20)
        os.killpg(emulator.pid, signal.SIGTERM)
        emulator.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
