"""On demand: ``lamctl package`` against ``sam package`` on a ~160 MB dependency tree, both uploading to
the same emulator over HTTP, cold and again with nothing changed; ``zip -r -X`` of the tree as the yardstick.

Run: ``pytest -s tests/benchmarks/test_package_bench.py``. It prints both sides and the ratios; it
asserts only correctness (the unchanged run uploads nothing), never a time.

The tree: ``pip install --target`` of pandas and requests when PyPI can be reached (or
``BENCH_TREE`` names a ready folder); otherwise a copy of installed packages of this
environment of about the same size. The peer: ``sam`` on PATH, or ``BENCH_SAM`` naming it;
without it only our side is measured.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

TARGET_BYTES = 160 * 1000 * 1000


def _tree(root: Path) -> Path:
    given = os.environ.get("BENCH_TREE")
    if given:
        return Path(given)
    tree = root / "tree"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(tree), "pandas",
                          "requests", "--only-binary=:all:"], capture_output=True, text=True)
    if pip.returncode != 0:
        shutil.rmtree(tree, ignore_errors=True)
        site = Path(next(p for p in sys.path if p.endswith("site-packages")))
        total = 0
        for name in ("sympy", "botocore", "moto", "cfnlint", "networkx", "pygments"):
            if (site / name).is_dir() and total < TARGET_BYTES:
                shutil.copytree(site / name, tree / name)
                total += sum(f.stat().st_size for f in (tree / name).rglob("*") if f.is_file())
    (tree / "app.py").write_text("def handler(event, context):\n    return 'ok'\n")
    return tree


def _size(tree: Path) -> tuple[int, int]:
    files = [f for f in tree.rglob("*") if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(args, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start, proc


def test_package_against_sam_package(tmp_path):
    tree = _tree(tmp_path)
    files, size = _size(tree)
    project = tmp_path / "project"
    project.mkdir()
    (project / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        f"    Properties:\n      CodeUri: {tree}\n      Handler: app.handler\n      Runtime: python3.12\n")

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint, XDG_CACHE_HOME=str(tmp_path / "cache"),
               SAM_CLI_TELEMETRY="0")
    env.pop("CI", None)
    try:
        import boto3

        for _ in range(200):
            try:
                s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
                s3.create_bucket(Bucket="ours")
                s3.create_bucket(Bucket="theirs")
                break
            except Exception:
                time.sleep(0.1)

        zip_s, _ = _timed(["zip", "-q", "-r", "-X", str(tmp_path / "ref.zip"), "."], cwd=tree)
        ref_size = (tmp_path / "ref.zip").stat().st_size

        lamctl = [sys.executable, "-m", "lamctl.cli", "--output", "json", "package", "--s3-bucket", "ours",
                  "--output-template-file", str(project / "ours.yaml")]
        cold_s, cold = _timed(lamctl, cwd=project, env=env)
        assert cold.returncode == 0, cold.stderr
        warm_s, warm = _timed(lamctl, cwd=project, env=env)
        assert warm.returncode == 0, warm.stderr
        assert '"uploaded": 0' in warm.stdout.splitlines()[-1]

        print(f"\ntree: {files} files, {size / 1e6:.1f} MB; zip -r -X: {zip_s:.2f} s, {ref_size / 1e6:.1f} MB")
        print(f"lamctl package: cold {cold_s:.2f} s, unchanged {warm_s:.2f} s")
        print(f"  vs zip -r: cold {zip_s / cold_s:.1f}x faster, unchanged {zip_s / warm_s:.1f}x faster")

        sam = os.environ.get("BENCH_SAM") or shutil.which("sam")
        if not sam:
            print("sam: not installed (set BENCH_SAM); peer not measured")
            return
        sam_args = [sam, "package", "--template-file", str(project / "template.yaml"), "--s3-bucket", "theirs",
                    "--output-template-file", str(project / "theirs.yaml"), "--region", "us-east-1"]
        sam_cold_s, sam_cold = _timed(sam_args, cwd=project, env=env)
        assert sam_cold.returncode == 0, sam_cold.stderr
        sam_warm_s, sam_warm = _timed(sam_args, cwd=project, env=env)
        assert sam_warm.returncode == 0, sam_warm.stderr
        print(f"sam package: cold {sam_cold_s:.2f} s, unchanged {sam_warm_s:.2f} s")
        print(f"ratio sam/lamctl: cold {sam_cold_s / cold_s:.1f}x, unchanged {sam_warm_s / warm_s:.1f}x")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
