"""``BuildMethod: makefile``: ``make build-<LogicalId>`` with ``ARTIFACTS_DIR``, as sam build runs it, with the
real make; what the target puts into ARTIFACTS_DIR is the zip, and the built bootstrap runs locally."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile

import pytest

from tests.functional.test_deploy_workshop import SAMPLE as WORKSHOP

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: src
      Handler: bootstrap
      Runtime: provided.al2023
"""

MAKEFILE = """\
build-Fn:
\tcp runtime.sh $(ARTIFACTS_DIR)/bootstrap
\tchmod +x $(ARTIFACTS_DIR)/bootstrap
\tmkdir -p $(ARTIFACTS_DIR)/lib
\tprintf '%s\\n' "$(NOTE)" > $(ARTIFACTS_DIR)/lib/note.txt

NOTE = made by make
"""


@pytest.fixture
def project(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed (Debian: apt-get install make; .ci/run installs it)")
    src = tmp_path / "src"
    src.mkdir()
    (src / "Makefile").write_text(MAKEFILE)
    shutil.copy(WORKSHOP / "custom" / "bootstrap", src / "runtime.sh")  # a shell runtime (it uses curl)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def zip_of(project) -> tuple[dict, dict, str]:
    path = project / ".lamctl" / "build" / "Fn.zip"
    with zipfile.ZipFile(path) as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        data = {n: zf.read(n) for n in zf.namelist()}
    return modes, data, hashlib.sha256(path.read_bytes()).hexdigest()


def reused(r) -> bool:
    return next(x["reused"] for x in r.json_lines() if x.get("type") == "artifact")


def test_the_target_s_artifacts_dir_is_the_zip(cli, project):
    before = sorted(p.name for p in (project / "src").iterdir())
    r = cli("--output", "json", "build", cwd=project)
    assert r.exit_code == 0, r
    assert not reused(r)
    modes, data, sha = zip_of(project)
    assert modes == {"bootstrap": 0o755, "lib/note.txt": 0o644}  # the Makefile and sources stay out
    assert data["lib/note.txt"] == b"made by make\n"
    assert sorted(p.name for p in (project / "src").iterdir()) == before  # make ran on a copy

    # nothing changed: reused; the Makefile is an input, and so is every file of the folder
    r = cli("--output", "json", "build", cwd=project)
    assert reused(r) and zip_of(project)[2] == sha
    (project / "src" / "Makefile").write_text(MAKEFILE.replace("made by make", "made again"))
    r = cli("--output", "json", "build", cwd=project)
    assert not reused(r) and zip_of(project)[1]["lib/note.txt"] == b"made again\n"
    (project / "src" / "runtime.sh").write_text("#!/bin/sh\nexit 3\n")
    r = cli("--output", "json", "build", cwd=project)
    assert not reused(r) and zip_of(project)[1]["bootstrap"] == b"#!/bin/sh\nexit 3\n"


def test_the_built_bootstrap_runs_locally(cli, project):
    if shutil.which("curl") is None:
        pytest.skip("the shell runtime uses curl (.ci/run installs it)")
    r = cli("local", "invoke", "Fn", "-e", "-", stdin='{"a": 1}', cwd=project)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout)["message"] == "Hello from a custom runtime"


def test_a_missing_target_names_it_and_the_makefile(cli, project):
    (project / "src" / "Makefile").write_text(MAKEFILE.replace("build-Fn:", "build-Other:"))
    r = cli("build", cwd=project)
    assert r.exit_code == 2, r
    assert "build-Fn" in r.stderr and str(project / "src" / "Makefile") in r.stderr
    assert not (project / ".lamctl" / "build" / "Fn.zip").exists()


def test_a_failing_target_is_a_build_failure(cli, project):
    (project / "src" / "Makefile").write_text("build-Fn:\n\t@echo compiler says no >&2; false\n")
    r = cli("build", cwd=project)
    assert r.exit_code == 1, r
    assert "make build-Fn failed for Fn" in r.stderr and "compiler says no" in r.stderr
    assert not (project / ".lamctl" / "build" / "Fn.zip").exists()


def test_an_empty_artifacts_dir_is_refused(cli, project):
    (project / "src" / "Makefile").write_text("build-Fn:\n\t@true\n")
    r = cli("build", cwd=project)
    assert r.exit_code == 1 and "put nothing into ARTIFACTS_DIR" in r.stderr, r


def test_no_makefile_or_no_make_is_a_usage_error_before_any_work(cli, project, tmp_path, monkeypatch):
    (project / "src" / "Makefile").unlink()
    r = cli("build", cwd=project)
    assert r.exit_code == 2 and "template.yaml:8" in r.stderr, r  # CodeUri
    assert "Makefile" in r.stderr and "build-Fn" in r.stderr
    (project / "src" / "Makefile").write_text(MAKEFILE)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli("build", cwd=project)
    assert r.exit_code == 2 and "'make'" in r.stderr and "apt-get install make" in r.stderr, r
    assert not (project / ".lamctl").exists()


def test_a_layer_is_built_by_its_target_too(cli, project):
    (project / "layer").mkdir()
    (project / "layer" / "Makefile").write_text("build-Shared:\n\tmkdir -p $(ARTIFACTS_DIR)/bin\n"
                                                "\tprintf 'tool' > $(ARTIFACTS_DIR)/bin/tool\n")
    (project / "template.yaml").write_text(TEMPLATE + """\
      Layers: [!Ref Shared]
  Shared:
    Type: AWS::Serverless::LayerVersion
    Metadata:
      BuildMethod: makefile
    Properties:
      ContentUri: layer
""")
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    with zipfile.ZipFile(project / ".lamctl" / "build" / "Shared.zip") as zf:
        assert zf.namelist() == ["bin/tool"] and zf.read("bin/tool") == b"tool"
    (project / "layer" / "Makefile").unlink()
    r = cli("build", cwd=project)
    assert r.exit_code == 2 and "template.yaml:17" in r.stderr and "build-Shared" in r.stderr, r  # ContentUri


def test_a_source_rewritten_within_the_same_timestamp_is_seen(cli, project):
    """Git's racily-clean case: a file changed again with the same size and mtime (and inode) as when it
    was built. Its content digest, taken before make ran, is what tells."""
    import os

    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    script = project / "src" / "runtime.sh"
    st = script.stat()
    text = script.read_text()
    with open(script, "r+") as fh:  # same inode, same size
        fh.write(text.replace("Hello from", "Howdy from").replace("a custom runtime", "a custom  runtim"))
    assert script.stat().st_size == st.st_size
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = cli("--output", "json", "build", cwd=project)
    assert not reused(r), r
    assert b"Howdy from" in zip_of(project)[1]["bootstrap"]
