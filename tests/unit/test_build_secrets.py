"""Files that often hold credentials are left out of zips by default, named once, and put back by '!NAME'."""

from __future__ import annotations

from lamctl.packager.build import build_template, explain_path
from tests.helpers import ONE_FUNCTION, load_written, write_files, zip_names

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEdummydummydummy\n-----END RSA PRIVATE KEY-----\n"
OPENSSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIDdummy\n-----END CERTIFICATE-----\n"

SECRETS = {
    ".env": "A=1", ".env.local": "A=1", ".env.production": "A=1", ".envrc": "export A=1",
    ".git-credentials": "https://u:p@example.com", ".netrc": "machine x login u password p",
    ".npmrc": "//registry/:_authToken=t", ".pypirc": "[pypi]\npassword = p", "id_rsa": PRIVATE_KEY,
    "keys/id_ed25519": OPENSSH_KEY, "certs/server.pem": PRIVATE_KEY, "certs/tls.key": PRIVATE_KEY,
    ".aws/credentials": "[default]", ".ssh/config": "Host x",
}


def _project(tmp_path, tree: dict[str, str], ignore: str | None = None):
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    write_files(src, tree)
    if ignore is not None:
        (src / ".lamctlignore").write_text(ignore)
    return load_written(tmp_path, ONE_FUNCTION)


def test_credential_files_are_left_out_and_each_is_named_once(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", "certs/ca.pem": CERTIFICATE, "id_rsa.pub": "ssh-rsa AAAA",
                              "environment.py": "x", **SECRETS})
    result = build_template(tpl)
    assert zip_names(result.artifact("Fn").zip_path) == ["app.py", "certs/ca.pem", "environment.py", "id_rsa.pub"]
    [warning] = [w for w in result.warnings if "credentials" in w]
    assert warning.startswith("Fn: ")
    for name in (".env", ".env.local", ".env.production", ".envrc", ".git-credentials", ".netrc", ".npmrc",
                 ".pypirc", "id_rsa", "keys/id_ed25519", ".aws/", ".ssh/"):
        assert warning.count(name + ",") + warning.count(name + " ") >= 1, name
    assert "certs/server.pem (a private key)" in warning and "certs/tls.key (a private key)" in warning
    assert "ca.pem" not in warning and "id_rsa.pub" not in warning
    assert "!NAME" in warning and ".lamctlignore" in warning
    # an unchanged rebuild still says it
    again = build_template(tpl)
    assert any("certs/server.pem" in w for w in again.warnings)


def test_two_functions_sharing_a_folder_name_a_left_out_file_once(tmp_path):
    (tmp_path / "src").mkdir()
    write_files(tmp_path / "src", {"app.py": "x", ".env.local": "A=1"})
    tpl = load_written(tmp_path, ONE_FUNCTION.replace("Resources:\n", """Resources:
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Runtime: python3.12
      Handler: app.handler
""", 1))
    result = build_template(tpl)
    assert sum(".env.local" in w for w in result.warnings) == 1


def test_lamctlignore_puts_one_back_with_a_negation(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", ".env.production": "A=1", ".npmrc": "x", "certs/server.pem": PRIVATE_KEY},
                   ignore="!.env.production\n!server.pem\n")
    result = build_template(tpl)
    assert zip_names(result.artifact("Fn").zip_path) == [".env.production", "app.py", "certs/server.pem"]
    [warning] = [w for w in result.warnings if "credentials" in w]
    assert ".npmrc" in warning and ".env.production" not in warning and "server.pem" not in warning


def test_nothing_is_said_when_nothing_is_left_out(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", "certs/ca.pem": CERTIFICATE})
    assert not [w for w in build_template(tpl).warnings if "credentials" in w]


def test_explain_says_why_a_secret_is_left_out(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", ".npmrc": "x", "certs/server.pem": PRIVATE_KEY,
                              "certs/ca.pem": CERTIFICATE})
    src = tmp_path / "src"
    [npmrc] = explain_path(tpl, str(src / ".npmrc"))
    assert not npmrc.included and "credentials" in npmrc.reason
    [key] = explain_path(tpl, str(src / "certs" / "server.pem"))
    assert not key.included and "private key" in key.reason
    [cert] = explain_path(tpl, str(src / "certs" / "ca.pem"))
    assert cert.included


def test_build_output_names_what_it_left_out(cli, tmp_path):
    _project(tmp_path, {"app.py": "x", ".env.local": "A=1", "id_rsa": PRIVATE_KEY})
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 0, result
    lines = [line for line in result.stderr.splitlines() if ".env.local" in line]
    assert len(lines) == 1 and "id_rsa" in lines[0]
