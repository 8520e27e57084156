"""``lamctl package`` of nested applications: a Location (or a stack's TemplateURL) that is a local template is
built and packaged recursively, as ``sam package`` does: its functions zipped and uploaded, the nested template
rewritten and uploaded under its SHA-256, the Location pointed at its https:// S3 URL. Real builds, real zips,
real uploads to the emulator over HTTP."""

from __future__ import annotations

import hashlib
import io
import zipfile

import yaml

from tests.helpers import write_files

PARENT = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Top:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: top/
      Handler: app.handler
      Runtime: python3.12
  Child:
    Type: AWS::Serverless::Application
    Properties:
      Location: apps/child.yaml
      Parameters: {Who: child}
"""

CHILD = """\
Transform: AWS::Serverless-2016-10-31
# the child keeps its comments
Parameters:
  Who: {Type: String}
Resources:
  ChildFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.handler
      Runtime: python3.12
  Grandchild:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: deeper/grandchild.yaml
"""

GRANDCHILD = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  DeepFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
"""


def project(root):
    write_files(root, {
        "template.yaml": PARENT,
        "top/app.py": "def handler(event, context):\n    return 'top'\n",
        "apps/child.yaml": CHILD,
        "apps/code/app.py": "def handler(event, context):\n    return 'child'\n",
        "apps/deeper/grandchild.yaml": GRANDCHILD,
        "apps/deeper/src/app.py": "def handler(event, context):\n    return 'deep'\n",
    })
    return root


def s3_object(s3, url_or_uri: str) -> tuple[str, bytes]:
    prefix = "https://s3.us-east-1.amazonaws.com/art/"
    key = url_or_uri[len(prefix):] if url_or_uri.startswith(prefix) else url_or_uri.split("/", 3)[3]
    return key, s3.get_object(Bucket="art", Key=key)["Body"].read()


def test_nested_templates_are_packaged_recursively_and_reproducibly(tmp_path, cli, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art")
    root = project(tmp_path / "p")
    (root / "apps" / "code" / ".env").write_text("TOKEN=not-for-the-zip\n")
    first = cli("package", "--s3-bucket", "art", cwd=root)
    assert first.exit_code == 0, first
    assert "warning: apps/child.yaml: ChildFn: left out of the zip" in first.stderr, first.stderr  # its build's
    out = yaml.safe_load(first.stdout)
    url = out["Resources"]["Child"]["Properties"]["Location"]
    assert url.startswith("https://s3.us-east-1.amazonaws.com/art/")
    assert out["Resources"]["Child"]["Properties"]["Parameters"] == {"Who": "child"}

    key, child_text = s3_object(s3, url)
    assert key == hashlib.sha256(child_text).hexdigest() + ".yaml"  # content-addressed
    assert b"# the child keeps its comments" in child_text  # the packaged SAM template, as sam package uploads it
    child = yaml.safe_load(child_text)
    _, child_zip = s3_object(s3, child["Resources"]["ChildFn"]["Properties"]["CodeUri"])
    assert zipfile.ZipFile(io.BytesIO(child_zip)).read("app.py") == b"def handler(event, context):\n    return 'child'\n"
    assert zipfile.ZipFile(io.BytesIO(child_zip)).namelist() == ["app.py"]

    _, deep_text = s3_object(s3, child["Resources"]["Grandchild"]["Properties"]["TemplateURL"])
    deep = yaml.safe_load(deep_text)
    _, deep_zip = s3_object(s3, deep["Resources"]["DeepFn"]["Properties"]["CodeUri"])
    assert zipfile.ZipFile(io.BytesIO(deep_zip)).namelist() == ["app.py"]

    # the same sources, elsewhere and later: the same bytes, so the same keys and nothing new to upload
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="art")["Contents"])
    assert len(keys) == 5  # three zips, two nested templates
    other = project(tmp_path / "q")
    (other / "apps" / "code" / ".env").write_text("TOKEN=another\n")
    again = cli("package", "--s3-bucket", "art", cwd=other)
    assert again.exit_code == 0, again
    assert again.stdout == first.stdout
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="art")["Contents"]) == keys


def test_a_cycle_of_nested_templates_is_refused_at_its_line_and_nothing_is_uploaded(tmp_path, cli, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art")
    root = project(tmp_path)
    (root / "apps" / "deeper" / "grandchild.yaml").write_text(GRANDCHILD + """\
  Back:
    Type: AWS::Serverless::Application
    Properties:
      Location: ../../template.yaml
""")
    r = cli("package", "--s3-bucket", "art", cwd=root)
    assert r.exit_code == 2, r
    assert "grandchild.yaml:12:" in r.stderr, r.stderr  # the Location that closes the cycle
    assert "template.yaml -> apps/child.yaml -> apps/deeper/grandchild.yaml -> template.yaml" in r.stderr
    assert s3.list_objects_v2(Bucket="art").get("KeyCount") == 0


def test_a_missing_nested_template_is_refused_before_anything_is_built(tmp_path, cli, aws):
    aws.client("s3").create_bucket(Bucket="art")
    write_files(tmp_path, {"template.yaml": PARENT, "top/app.py": "x = 1\n"})
    r = cli("package", "--s3-bucket", "art", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "template.yaml:12:17" in r.stderr and "apps/child.yaml" in r.stderr and "not a file" in r.stderr
    assert not (tmp_path / ".lamctl").exists()
    assert aws.client("s3").list_objects_v2(Bucket="art").get("KeyCount") == 0


def test_a_nested_template_over_cloudformations_limit_is_refused(tmp_path, cli, aws):
    aws.client("s3").create_bucket(Bucket="art")
    root = project(tmp_path)
    big = "x" * 1_100_000
    (root / "apps" / "child.yaml").write_text(CHILD.replace("# the child keeps its comments",
                                                            f"Description: {big}"))
    r = cli("package", "--s3-bucket", "art", cwd=root)
    assert r.exit_code == 2, r
    assert "template.yaml:12:17" in r.stderr and "1,048,576" in r.stderr
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="art").get("Contents", [])]
    assert not any(k.endswith(".yaml") for k in keys)


def test_nesting_deeper_than_ten_levels_is_refused(tmp_path, cli, aws):
    aws.client("s3").create_bucket(Bucket="art")
    level = ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Next:\n    Type: AWS::Serverless::Application\n"
             "    Properties:\n      Location: level{n}.yaml\n")
    (tmp_path / "template.yaml").write_text(level.format(n=1))
    for n in range(1, 12):
        (tmp_path / f"level{n}.yaml").write_text(level.format(n=n + 1))
    (tmp_path / "level12.yaml").write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    r = cli("package", "--s3-bucket", "art", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "level10.yaml:6:17" in r.stderr and "deeper than 10 levels" in r.stderr, r.stderr
    assert aws.client("s3").list_objects_v2(Bucket="art").get("KeyCount") == 0
    # ten levels are fine
    (tmp_path / "level10.yaml").write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    r = cli("package", "--s3-bucket", "art", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert aws.client("s3").list_objects_v2(Bucket="art")["KeyCount"] == 10
