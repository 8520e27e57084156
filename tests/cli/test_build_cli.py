"""``lamctl build`` at the command line: output modes, --explain, exit codes, settings."""

from __future__ import annotations

import os

from tests.helpers import lamctl_in_child

TEMPLATE = """\
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Runtime: python3.12
      Handler: app.handler
      Layers: [!Ref Shared]
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
"""


def _project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "src" / "notes.md").write_text("x")
    (tmp_path / "src" / ".lamctlignore").write_text("*.md\n")
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "shared.py").write_text("S = 1\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def test_plain_output_lists_each_artifact_with_sizes_sha_and_headroom(cli, tmp_path):
    _project(tmp_path)
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split()[:6] == ["artifact", "kind", "files", "unzipped", "zipped", "sha256"]
    assert lines[0].split()[6:] == ["250MB", "left", "50MB", "direct", "left", "layers", "left", "env", "4KB", "left",
                                    "state"]
    api = next(line.split() for line in lines if line.startswith("Api "))
    assert api[1:3] == ["function", "1"] and api[-1] == "built"
    assert api[-3:-1] == ["4", "4,096"]  # one layer of five; no environment variables
    shared = next(line.split() for line in lines if line.startswith("Shared "))
    assert shared[-3:] == ["-", "-", "built"]  # layers have no configuration of their own
    assert len(api[7]) == 64  # full sha256 when not on a terminal
    assert os.path.isfile(tmp_path / ".lamctl" / "build" / "Api.zip")
    assert "2 artifact(s)" in result.stderr and "2 built" in result.stderr
    again = cli("build", cwd=tmp_path)
    assert again.exit_code == 0 and again.stdout.splitlines()[1].endswith("reused")
    assert "0 built, 2 unchanged" in again.stderr


def test_json_output_is_one_artifact_object_per_line_then_a_result(cli, tmp_path):
    _project(tmp_path)
    out = tmp_path / "custom"
    result = cli("--output", "json", "build", "-t", str(tmp_path / "template.yaml"), "--build-dir", str(out))
    assert result.exit_code == 0, result
    objs = result.json_lines()
    arts = [o for o in objs if o["type"] == "artifact"]
    assert [a["resource"] for a in arts] == ["Api", "Shared"]
    api = arts[0]
    assert api["zip_path"] == str(out / "Api.zip") and api["files"] == 1 and api["layers"] == ["Shared"]
    assert len(api["sha256"]) == 64 and api["code_sha256"].endswith("=")
    assert api["headroom"]["unzipped"]["limit"] == 250 * 1024 * 1024
    assert api["headroom"]["layers"] == {"used": 1, "limit": 5, "left": 4}
    assert api["headroom"]["environment"] == {"used": 0, "limit": 4096, "left": 4096}
    # the function's figure includes its layer
    assert api["headroom"]["unzipped"]["used"] == api["unzipped_bytes"] + arts[1]["unzipped_bytes"]
    assert objs[-1] == {"type": "result", "ok": True, "artifacts": 2, "built": 2, "build_dir": str(out)}


def test_build_dir_from_lamctl_toml(cli, tmp_path):
    _project(tmp_path)
    (tmp_path / "lamctl.toml").write_text('[default]\nbuild_dir = "dist"\n')
    assert cli("build", cwd=tmp_path).exit_code == 0
    assert sorted(os.listdir(tmp_path / "dist")) == ["Api.zip", "Shared.zip"]


def test_explain_says_which_rule_decides(cli, tmp_path):
    _project(tmp_path)
    result = cli("build", "--explain", "src/notes.md", cwd=tmp_path)
    assert result.exit_code == 0, result
    assert "excluded" in result.stdout and "'*.md'" in result.stdout and ".lamctlignore:1" in result.stdout
    assert not (tmp_path / ".lamctl").exists(), "--explain builds nothing"
    result = cli("--output", "json", "build", "--explain", "src/app.py", cwd=tmp_path)
    row = next(o for o in result.json_lines() if o["type"] == "explain")
    assert row["included"] is True and row["resource"] == "Api" and row["path"] == "app.py"
    (tmp_path / "README").write_text("about\n")
    result = cli("build", "--explain", "README", cwd=tmp_path)
    assert result.exit_code == 0 and "not inside any code folder" in result.stdout


def test_explain_of_a_path_that_does_not_exist_says_so(cli, tmp_path):
    _project(tmp_path)
    result = cli("build", "--explain", "src/nonexistent", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert "--explain src/nonexistent" in result.stderr and "does not exist" in result.stderr
    assert "no rule matches" not in result.stdout + result.stderr
    assert "src/" in result.stderr  # the code folders it could mean
    assert not (tmp_path / ".lamctl").exists()


def test_a_malformed_template_is_exit_2_with_file_and_line(cli, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: missing\n")
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 2
    assert "error: ./template.yaml:5:16: Fn: CodeUri missing does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("--output", "json", "build", cwd=tmp_path)
    err = next(o for o in result.json_lines() if o["type"] == "error")
    assert err["where"] == "./template.yaml:5:16" and err["exit_code"] == 2


def test_a_limit_error_is_exit_2_and_names_the_artifact(cli, tmp_path):
    _project(tmp_path)
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("Handler: app.handler", "Handler: app.handler\n"
                                                             "      Timeout: 1200"))
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 2
    assert "Api: Timeout is 1,200 seconds; Lambda allows 1 to 900" in result.stderr
    assert "template.yaml:8:16" in result.stderr


def test_no_template_is_exit_2(cli, tmp_path):
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 2 and "no template found" in result.stderr


def test_the_whole_process_rebuild_of_an_unchanged_tree_imports_no_aws_sdk(tmp_path):
    _project(tmp_path)
    report = ("heavy = sorted(m for m in sys.modules\n"
              "               if m.split('.')[0] in ('boto3', 'botocore', 'jsonschema', 'pathspec'))\n"
              "print('RC=%d HEAVY=%s' % (rc, ','.join(heavy)))\n")
    for _ in range(2):
        out = lamctl_in_child(["build"], tmp_path, after=report)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().splitlines()[-1] == "RC=0 HEAVY="


def test_a_github_job_summary_lists_the_artifacts(cli, tmp_path, monkeypatch):
    _project(tmp_path)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli("build", cwd=tmp_path).exit_code == 0
    text = summary.read_text()
    assert text.startswith("### lamctl build") and "| Api | function | 1 |" in text and "| Shared | layer |" in text


def test_a_template_without_local_code_says_so(cli, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: s3://b/k.zip\n")
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""
    assert "nothing to build" in result.stderr


def test_the_table_fits_the_terminal_width_by_leaving_out_the_least_useful_columns(cli, tmp_path, monkeypatch):
    _project(tmp_path)
    wide = cli("build", cwd=tmp_path)  # no terminal, no COLUMNS: every column, whole
    assert max(len(line) for line in wide.stdout.splitlines()) > 120
    for columns in (120, 80):
        monkeypatch.setenv("COLUMNS", str(columns))
        result = cli("build", cwd=tmp_path)
        assert result.exit_code == 0, result
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= columns, result.stdout
        assert lines[0].split()[0] == "artifact" and "zipped" in lines[0].split()
        assert {line.split()[0] for line in lines[1:]} == {"Api", "Shared"}  # every artifact, one line each
        assert f"left out to fit {columns} columns: files, kind" in result.stderr
    assert "sha256" not in lines[0]  # at 80 columns the digest goes too (--output json keeps it)
    assert lines[0].split()[-1] == "state"  # taken back once the wide digest made room
    monkeypatch.setenv("COLUMNS", "80")
    rows = [o for o in cli("--output", "json", "build", cwd=tmp_path).json_lines() if o["type"] == "artifact"]
    assert all(len(o["sha256"]) == 64 and "files" in o for o in rows)


def test_a_narrow_table_wraps_other_columns_but_never_cuts_a_value_to_copy(monkeypatch):
    import io

    from lamctl.cli.render import Output

    url = "https://abcdefghij.execute-api.us-east-1.amazonaws.com/Prod/hello/with/a/long/path/"
    monkeypatch.setenv("COLUMNS", "60")
    out = Output("text", stdout=io.StringIO(), stderr=io.StringIO())
    out.table(["Key", "Value", "Description"],
              [["HelloApi", url, "the API Gateway endpoint URL of the Prod stage for the Hello function"]])
    lines = out.stdout.getvalue().splitlines()
    assert any(url in line for line in lines)  # whole, on one line
    assert len(lines) > 2  # the description wrapped under it
    at = lines[0].index("Description")
    assert " ".join(line[at:].strip() for line in lines[1:]) == \
        "the API Gateway endpoint URL of the Prod stage for the Hello function"
