"""``lamctl sync`` on the local cloud (its server in this process, real HTTP, real function processes):
code-only changes are pushed straight to the functions (the alias of AutoPublishAlias moved), a layer's
content as a new layer version, anything else goes through deploy; ``protected = true`` is refused."""

from __future__ import annotations

import json
import re

import pytest

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: synced
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      Layers:
        - !Ref Lib
  Lib:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: lib/
      CompatibleRuntimes:
        - python3.12
"""
APP = """\
from words import WORD
def handler(event, context):
    return {{"answer": {answer}, "word": WORD}}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "lamctl.toml").write_text('[default]\ntarget = "local"\n')  # with --endpoint-url: this server
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP.format(answer=1))
    (tmp_path / "lib" / "python").mkdir(parents=True)
    (tmp_path / "lib" / "python" / "words.py").write_text('WORD = "one"\n')
    return tmp_path


def _sync(cli, cloud, project, *extra):
    result = cli("--endpoint-url", cloud.endpoint, "--output", "json", "sync", "--stack", "syncdemo", *extra,
                 cwd=project)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result, [e for e in result.json_lines() if e["type"] == "result"][-1]


def _ask(cloud, qualifier="live"):
    resp = cloud.client("lambda").invoke(FunctionName="synced", Qualifier=qualifier, Payload=b"{}")
    return json.loads(resp["Payload"].read()), resp["ExecutedVersion"]


def test_sync_deploys_first_then_pushes_code_and_layers_and_deploys_template_changes(cli, local_cloud, project,
                                                                                    instant_clock):
    _, first = _sync(cli, local_cloud, project)
    assert first["action"] == "deploy" and "does not exist" in first["reason"]
    assert _ask(local_cloud) == ({"answer": 1, "word": "one"}, "1")
    cfn = local_cloud.client("cloudformation")
    updated = cfn.describe_stacks(StackName="syncdemo")["Stacks"][0].get("LastUpdatedTime")

    (project / "src" / "app.py").write_text(APP.format(answer=2))
    run, code = _sync(cli, local_cloud, project)
    assert code["action"] == "code" and code["pushed"] == ["Fn"]
    assert _ask(local_cloud) == ({"answer": 2, "word": "one"}, "2")  # published, alias moved
    assert _ask(local_cloud, "$LATEST")[0]["answer"] == 2
    assert "differs from its template" in run.stdout  # said once, as a warning
    assert cfn.describe_stacks(StackName="syncdemo")["Stacks"][0].get("LastUpdatedTime") == updated  # no deploy

    (project / "lib" / "python" / "words.py").write_text('WORD = "two"\n')
    _, layer = _sync(cli, local_cloud, project)
    assert layer["action"] == "code" and sorted(layer["pushed"]) == ["Fn", "Lib"]
    assert _ask(local_cloud) == ({"answer": 2, "word": "two"}, "3")

    _, nothing = _sync(cli, local_cloud, project)
    assert nothing["action"] == "none" and nothing["pushed"] == []

    (project / "template.yaml").write_text(TEMPLATE.replace("      Runtime: python3.12\n",
                                                            "      Runtime: python3.12\n      MemorySize: 256\n", 1))
    _, deployed = _sync(cli, local_cloud, project)
    assert deployed["action"] == "deploy" and "template changed" in deployed["reason"]
    assert local_cloud.client("lambda").get_function_configuration(FunctionName="synced")["MemorySize"] == 256
    assert _ask(local_cloud)[0] == {"answer": 2, "word": "two"}  # the deploy shipped the code it had pushed


def test_a_protected_environment_is_refused(cli, local_cloud, project):
    (project / "lamctl.toml").write_text('[default]\ntarget = "local"\nstack = "syncdemo"\n\n'
                                         '[prod]\nprotected = true\n')
    result = cli("--endpoint-url", local_cloud.endpoint, "--env", "prod", "sync", cwd=project)
    assert result.exit_code == 2
    assert "protected" in result.stderr and "lamctl.toml:6" in result.stderr
    assert local_cloud.client("cloudformation").list_stacks()["StackSummaries"] == []  # nothing done


def test_watch_pushes_each_save_and_says_what_and_how_long(cli, local_cloud, project, instant_clock):
    import os

    _sync(cli, local_cloud, project)  # the stack exists, this folder's record is written
    app = project / "src" / "app.py"
    seen = {"sleeps": 0, "answers": []}

    def on_sleep(clock):
        seen["sleeps"] += 1
        if seen["sleeps"] == 3:  # a save while lamctl watches (an explicit mtime: no waiting on the file system)
            app.write_text(APP.format(answer=7))
            os.utime(app, ns=(app.stat().st_mtime_ns + 10**9,) * 2)
        if seen["sleeps"] > 3 and seen["sleeps"] % 5 == 0:
            answer = _ask(local_cloud)[0]["answer"]
            seen["answers"].append(answer)
            if answer == 7 or seen["sleeps"] > 400:
                raise KeyboardInterrupt()

    instant_clock.on_sleep.append(on_sleep)
    result = cli("--endpoint-url", local_cloud.endpoint, "sync", "--stack", "syncdemo", "--watch", cwd=project)
    assert result.exit_code == 130, result.stderr
    assert seen["answers"][-1] == 7
    assert "changed: src/app.py" in result.stderr
    assert "pushed Fn (synced): updated code, published version 2, alias live moved to it" in result.stderr
    assert re.search(r"synced 1 resource\(s\) of stack syncdemo in \d+\.\d s", result.stderr), result.stderr


def test_watch_reports_a_broken_template_and_goes_on_watching(cli, local_cloud, project, instant_clock):
    import os

    _sync(cli, local_cloud, project)
    template, app = project / "template.yaml", project / "src" / "app.py"
    good = template.read_text()
    seen = {"sleeps": 0, "answer": None}

    def save(path, text):
        stamp = path.stat().st_mtime_ns + 10**9 * (seen["sleeps"] + 1)
        path.write_text(text)
        os.utime(path, ns=(stamp, stamp))

    def on_sleep(clock):
        seen["sleeps"] += 1
        if seen["sleeps"] == 3:
            save(template, "Resources: [\n")  # a save in the middle of an edit
        if seen["sleeps"] == 20:
            save(template, good)
            save(app, APP.format(answer=9))
        if seen["sleeps"] > 20 and seen["sleeps"] % 5 == 0:
            seen["answer"] = _ask(local_cloud)[0]["answer"]
            if seen["answer"] == 9 or seen["sleeps"] > 400:
                raise KeyboardInterrupt()

    instant_clock.on_sleep.append(on_sleep)
    result = cli("--endpoint-url", local_cloud.endpoint, "sync", "--stack", "syncdemo", "--watch", cwd=project)
    assert result.exit_code == 130, result.stderr
    assert "error: " in result.stderr and "template.yaml" in result.stderr  # the broken save, reported
    assert seen["answer"] == 9  # and the next save was pushed
