"""Fuzzing: any text gives a Template or a TemplateError; any SAM-like template gives findings (validate)
or CloudFormation / a TemplateError (transform), never another exception.

No test here looks at a clock: "quickly" is asserted by construction (a billion-laughs
document is refused by the size of what it *would* expand to, so the test would run
out of memory instead of passing if it were expanded).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from lamctl.packager.validate import validate_template
from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import MAX_DEPTH, Template, parse_text
from lamctl.schemas.validate import Finding
from tests.helpers import template_from_text

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_error(text: str):
    """parse_text's contract: a dict, or a TemplateError located in the file."""
    try:
        data = parse_text(text, "fuzz.yaml")
    except TemplateError as exc:
        assert exc.where and exc.where.startswith("fuzz.yaml"), exc.where
        assert exc.exit_code == 2
        return exc
    assert isinstance(data, dict)
    return data


# -- the loader -------------------------------------------------------------------------------
@FUZZ
@given(st.text(max_size=400))
def test_any_text_gives_a_mapping_or_a_located_template_error(text):
    parse_or_error(text)


# "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!set " belong here too once the loader refuses them cleanly
# (test_explicit_core_tags_with_bad_values_are_template_errors below pins that bug).
YAML_PIECES = st.sampled_from([
    "Resources", "Fn", "Type", "Properties", "AWS::Serverless::Function", "Handler", "Events", "a", "b", "1",
    "-1", "0x1F", "1e3", ".inf", "~", "null", "true", "no", "2010-09-09", "12:30:00", "'q'", '"d\\n"', "''",
    ":", ": ", ",", "- ", "-", "[", "]", "{", "}", "? ", "|", ">", "|-", "#c", "\n", "\n  ", "\n    ", "\t",
    "&a ", "*a", "&b ", "*b", "<<: ", "<<: *a", "!Ref ", "!GetAtt ", "!Sub ", "!If ", "!Foo ", "!GetAtt a",
    "!!str ", "!!binary ", "!!python/name:os.system ", "%YAML 1.1\n", "---\n", "...\n",
    "\ufeff", "\x85", "\u2028", "é", "\x00", "\x1b", "=", "@", "`",
])


@FUZZ
@given(st.lists(YAML_PIECES, max_size=80).map("".join))
def test_yaml_shaped_text_gives_a_mapping_or_a_located_template_error(text):
    parse_or_error(text)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@FUZZ
@given(JSONISH, st.integers(0, 400), st.text(max_size=5), st.booleans())
def test_mutated_documents_give_a_mapping_or_a_located_template_error(doc, cut, insert, as_json):
    text = json.dumps(doc) if as_json else yaml.safe_dump(doc, default_flow_style=None)
    cut = min(cut, len(text))
    parse_or_error(text[:cut] + insert + text[cut + 1:])


@FUZZ
@given(JSONISH.filter(lambda d: isinstance(d, dict)), st.lists(st.one_of(st.text(max_size=8), st.integers(-2, 8)),
                                                               max_size=6), st.booleans())
def test_where_answers_for_any_path(doc, path, key):
    text = yaml.safe_dump(doc)
    t = template_from_text(text, "fuzz.yaml")
    where = t.where(path, key=key)
    assert where.startswith("fuzz.yaml:")


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_not_expanded():
    # 10**10 strings if expanded: the test would exhaust memory rather than pass
    with pytest.raises(TemplateError) as exc:
        parse_text(billion_laughs(), "bomb.yaml")
    assert "alias bomb" in exc.value.message
    assert exc.value.where.startswith("bomb.yaml:")


def test_an_alias_bomb_through_merge_keys_is_refused():
    text = "m0: &m0 {a: 1, b: 2}\n" + "".join(
        f"m{i}: &m{i}\n" + "".join(f"  k{j}: *m{i - 1}\n" for j in range(10)) for i in range(1, 9)) + \
        "top:\n  <<: *m8\n"
    with pytest.raises(TemplateError) as exc:
        parse_text(text, "bomb.yaml")
    assert "alias bomb" in exc.value.message


def test_ordinary_anchors_and_merge_keys_still_work():
    data = parse_text("base: &b {Runtime: python3.12, Timeout: 3}\nFn:\n  <<: *b\n  MemorySize: 5\nOther: *b\n")
    assert data["Fn"] == {"Runtime": "python3.12", "Timeout": 3, "MemorySize": 5}
    assert data["Other"] == {"Runtime": "python3.12", "Timeout": 3}


def test_a_key_next_to_a_merge_overrides_the_merged_value():
    data = parse_text("base: &b {Runtime: python3.12, Timeout: 3}\nFn:\n  <<: *b\n  Timeout: 5\n")
    assert data["Fn"] == {"Runtime": "python3.12", "Timeout": 5}
    with pytest.raises(TemplateError):
        parse_text("Fn:\n  Timeout: 5\n  Timeout: 6\n")


def test_a_self_referencing_anchor_is_refused():
    with pytest.raises(TemplateError):
        parse_text("a: &a [*a]\n", "r.yaml")


@pytest.mark.parametrize("text", [
    "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5),
    "a: " + "{b: " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5),
    "".join(" " * i + "k:\n" for i in range(MAX_DEPTH + 5)) + " " * (MAX_DEPTH + 5) + "v\n",
    json.dumps(json.loads('{"a":' * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5))),
])
def test_nesting_beyond_the_limit_is_refused_with_its_location(text):
    with pytest.raises(TemplateError) as exc:
        parse_text(text, "deep.yaml")
    assert f"nesting deeper than {MAX_DEPTH} levels" in exc.value.message
    assert exc.value.where.startswith("deep.yaml:")


def _parse_in_child(text_expr: str) -> subprocess.CompletedProcess:
    """Run the loader in a child process: a crash of the YAML C library must fail the test, not pytest."""
    code = textwrap.dedent(f"""
        from lamctl.schemas.template import parse_text
        from lamctl.schemas.errors import TemplateError
        try:
            parse_text({text_expr}, "deep.yaml")
        except TemplateError as exc:
            print("REFUSED", exc)
        else:
            print("PARSED")
        """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("text_expr", ['"[" * 200_000', '"- " * 200_000 + "x"', '"{a: " * 200_000'])
def test_absurd_nesting_is_refused_not_a_crash(text_expr):
    out = _parse_in_child(text_expr)
    # Refused as a located template error, not a crash. The wording is not asserted: lamctl's depth check or
    # the YAML library's own nesting limit (PyYAML >= 6.0.3 has one) may be the first to see it.
    assert out.returncode == 0, f"the loader crashed (exit {out.returncode}): {out.stderr[-500:]}"
    assert re.match(r"REFUSED deep\.yaml:\d+:\d+: \S", out.stdout), out.stdout


@pytest.mark.parametrize("text", ["a: 1" + "0" * 5000 + "\n", "a: !!int\n", "a: !!int x\n", "a: !!float\n",
                                  "a: !!bool maybe\n", "a: !!timestamp x\n", "!!set <<: "])
def test_explicit_core_tags_with_bad_values_are_template_errors(text):
    parse_or_error(text)


# -- validate on SAM-like templates -----------------------------------------------------------
INTRINSIC = st.one_of(
    st.builds(lambda n: {"Ref": n}, st.sampled_from(["Fn", "Param", "Missing", "AWS::Region", "Fn.Alias", ""])),
    st.builds(lambda n: {"Fn::GetAtt": [n, "Arn"]}, st.sampled_from(["Fn", "Queue", "Nope"])),
    st.builds(lambda s: {"Fn::Sub": s}, st.sampled_from(["${Fn}", "${Nope.Arn}", "x-${AWS::Region}", "${!x}", "${"])),
    st.builds(lambda c: {"Fn::If": [c, 1, {"Ref": "AWS::NoValue"}]}, st.sampled_from(["C", "Nope"])),
    st.builds(lambda n: {n: "x"}, st.sampled_from(["Fn::Bogus", "Fn::Join", "Ref"])),
)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-20000, 20000), st.floats(allow_nan=False, width=32),
                   st.text(max_size=12), st.sampled_from(["live", "128", "900", "1e3", "Active", "arm64"]))
VALUE = st.recursive(st.one_of(SCALAR, INTRINSIC),
                     lambda c: st.lists(c, max_size=6) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                     max_leaves=12)
FUNCTION_PROPS = ["Handler", "Runtime", "CodeUri", "MemorySize", "Timeout", "Layers", "Environment",
                  "EphemeralStorage", "AutoPublishAlias", "DeploymentPreference", "Policies", "Tracing",
                  "Architectures", "ProvisionedConcurrencyConfig", "Tags", "VpcConfig", "Role", "Bogus"]
EVENT_TYPES = ["Api", "HttpApi", "Schedule", "ScheduleV2", "S3", "SNS", "SQS", "Kinesis", "DynamoDB",
               "EventBridgeRule", "CloudWatchEvent", "CloudWatchLogs", "Cognito", "Nope"]
EVENT_PROPS = ["Path", "Method", "RestApiId", "ApiId", "Schedule", "Bucket", "Events", "Topic", "Queue", "Stream",
               "StartingPosition", "Pattern", "LogGroupName", "FilterPattern", "ScheduleExpression"]
EVENT = st.one_of(VALUE, st.fixed_dictionaries(
    {"Type": st.one_of(st.sampled_from(EVENT_TYPES), SCALAR)},
    optional={"Properties": st.one_of(VALUE, st.dictionaries(st.sampled_from(EVENT_PROPS), VALUE, max_size=5))}))
SPECIAL = {
    "Environment": st.builds(lambda v: {"Variables": v}, st.dictionaries(st.text(max_size=6), VALUE, max_size=4)),
    "EphemeralStorage": st.builds(lambda v: {"Size": v}, SCALAR),
    "Layers": st.lists(st.one_of(st.text(max_size=5), INTRINSIC), max_size=8),
    "DeploymentPreference": st.dictionaries(st.sampled_from(["Type", "Enabled", "Alarms", "Hooks"]), VALUE,
                                            max_size=4),
}
PROP_VALUE = {p: SPECIAL.get(p, VALUE) for p in FUNCTION_PROPS}
FUNCTION = st.fixed_dictionaries(
    {"Type": st.sampled_from(["AWS::Serverless::Function"] * 4 + ["AWS::Serverless::Api", "AWS::Serverless::HttpApi",
                                                                  "AWS::Serverless::LayerVersion",
                                                                  "AWS::Serverless::SimpleTable", "AWS::SQS::Queue",
                                                                  "AWS::Serverless::StateMachine", "Bad"])},
    optional={
        "Properties": st.one_of(
            st.fixed_dictionaries({}, optional={**PROP_VALUE, "Events": st.dictionaries(
                st.sampled_from(["Get", "Tick", "bad-name", "Q"]), EVENT, max_size=3)}),
            VALUE),
        "DependsOn": st.one_of(st.text(max_size=5), st.lists(st.sampled_from(["Fn", "Nope", "Queue"]), max_size=3)),
        "Condition": st.sampled_from(["C", "Nope"]),
        "IgnoreGlobals": st.one_of(st.just("*"), st.lists(st.sampled_from(FUNCTION_PROPS), max_size=2)),
    })
TEMPLATE = st.fixed_dictionaries(
    {"Resources": st.one_of(st.dictionaries(st.sampled_from(["Fn", "Fn2", "Api", "Queue", "my_fn", "Layer"]),
                                            FUNCTION, min_size=1, max_size=4), VALUE)},
    optional={
        "Transform": st.sampled_from(["AWS::Serverless-2016-10-31", ["AWS::Serverless-2016-10-31"], "Other"]),
        "Globals": st.one_of(st.fixed_dictionaries({}, optional={
            "Function": st.one_of(st.fixed_dictionaries({}, optional=PROP_VALUE), VALUE),
            "Api": VALUE, "Bogus": VALUE}), VALUE),
        "Parameters": st.just({"Param": {"Type": "String"}}),
        "Conditions": st.just({"C": {"Fn::Equals": [{"Ref": "Param"}, "x"]}}),
        "Outputs": st.dictionaries(st.sampled_from(["Out", "bad-out"]), st.builds(lambda v: {"Value": v}, VALUE),
                                   max_size=2),
    })


def _loaded(doc: dict) -> Template:
    text = yaml.safe_dump(doc, sort_keys=False)
    return template_from_text(text, "fuzz.yaml")


@FUZZ
@given(TEMPLATE)
def test_validate_gives_located_findings_for_any_sam_like_template(doc):
    findings = validate_template(_loaded(doc))
    for f in findings:
        assert isinstance(f, Finding)
        assert f.file == "fuzz.yaml" and f.line is not None and f.col is not None
        assert f.message and "Traceback" not in f.message
        json.dumps(f.to_dict())


@pytest.mark.parametrize("wanted", ["schema", "reference", "semantic", "limit", "logical-id", "unknown property"])
def test_the_fuzz_strategy_reaches_the_checks_it_is_meant_to_exercise(wanted):
    """Guard against a strategy that never produces the interesting cases (a fuzz test that cannot fail)."""
    def reaches(doc):
        return any(f.code == wanted or wanted in f.message for f in validate_template(_loaded(doc)))

    find(TEMPLATE, reaches, settings=settings(max_examples=2000, database=None, deadline=None,
                                              phases=[Phase.generate]))


# -- the transform ---------------------------------------------------------------------------------
def _transform():
    from lamctl.transform import transform

    return transform


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(TEMPLATE)
def test_the_transform_gives_cloudformation_or_a_template_error(doc):
    transform = _transform()
    try:
        out = transform(_loaded(doc).data)
    except TemplateError as exc:
        assert exc.message
        return
    assert isinstance(out, dict)
    assert "AWS::Serverless-2016-10-31" not in json.dumps(out.get("Transform", ""))
    resources_in = doc.get("Resources") if isinstance(doc.get("Resources"), dict) else {}
    serverless = any(isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::")
                     for r in resources_in.values())
    if serverless or "AWS::Serverless-2016-10-31" in json.dumps(doc.get("Transform", "")):
        resources = out.get("Resources")
        assert isinstance(resources, dict) and resources
        for res in resources.values():
            assert not str(res.get("Type", "")).startswith("AWS::Serverless::")
    else:  # nothing serverless: the template passes through unchanged
        assert out == json.loads(json.dumps(doc))
    json.dumps(out)


# Mostly well-formed serverless resources, one property at a time replaced by anything: this reaches the
# transform's code for each feature (the purely random strategy above mostly stops at the first check).
GOOD = {
    "AWS::Serverless::Function": {
        "CodeUri": "s3://bucket/key.zip", "Handler": "app.handler", "Runtime": "python3.12", "MemorySize": 256,
        "Timeout": 30, "AutoPublishAlias": "live", "Layers": [{"Ref": "Layer"}],
        "DeploymentPreference": {"Type": "Canary10Percent5Minutes", "Alarms": [{"Ref": "Alarm"}]},
        "Environment": {"Variables": {"STAGE": "b"}}, "Policies": ["AWSLambdaBasicExecutionRole",
                                                               {"SQSPollerPolicy": {"QueueName": "q"}}],
        "Tags": {"team": "x"}, "Tracing": "Active", "Architectures": ["arm64"], "EphemeralStorage": {"Size": 1024},
        "FunctionUrlConfig": {"AuthType": "NONE"}, "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 1},
        "EventInvokeConfig": {"MaximumRetryAttempts": 1, "DestinationConfig": {"OnFailure": {"Type": "SQS"}}},
        "Events": {"Get": {"Type": "Api", "Properties": {"Path": "/x", "Method": "get"}},
                   "Http": {"Type": "HttpApi", "Properties": {"Path": "/y", "Method": "post"}},
                   "Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}},
                   "Jobs": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}},
                   "Up": {"Type": "S3", "Properties": {"Bucket": {"Ref": "Bucket"}, "Events": "s3:ObjectCreated:*"}},
                   "Note": {"Type": "SNS", "Properties": {"Topic": {"Ref": "Topic"}, "SqsSubscription": True}},
                   "Rule": {"Type": "EventBridgeRule", "Properties": {"Pattern": {"source": ["x"]}}},
                   "Logs": {"Type": "CloudWatchLogs", "Properties": {"LogGroupName": "g", "FilterPattern": ""}},
                   "Stream": {"Type": "DynamoDB", "Properties": {"Stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
                                                                 "StartingPosition": "LATEST"}}},
    },
    "AWS::Serverless::Api": {"StageName": "prod", "Cors": "'*'", "Tags": {"a": "b"}, "TracingEnabled": True,
                             "Auth": {"ApiKeyRequired": True}},
    "AWS::Serverless::HttpApi": {"StageName": "prod", "Tags": {"a": "b"}, "CorsConfiguration": True},
    "AWS::Serverless::LayerVersion": {"ContentUri": "s3://bucket/layer.zip", "CompatibleRuntimes": ["python3.12"],
                                      "RetentionPolicy": "Delete"},
    "AWS::Serverless::SimpleTable": {"PrimaryKey": {"Name": "id", "Type": "String"}, "Tags": {"a": "b"}},
}
FIXED = {"Queue": {"Type": "AWS::SQS::Queue"}, "Bucket": {"Type": "AWS::S3::Bucket"},
         "Topic": {"Type": "AWS::SNS::Topic"}, "Table": {"Type": "AWS::DynamoDB::Table"},
         "Alarm": {"Type": "AWS::CloudWatch::Alarm"}}


@st.composite
def nearly_valid_templates(draw):
    resources = dict(FIXED)
    for rtype, good in GOOD.items():
        props = dict(good)
        for name in draw(st.lists(st.sampled_from(sorted(good) + ["Bogus"]), max_size=2, unique=True)):
            props[name] = draw(VALUE)
        resources[rtype.rsplit("::", 1)[-1].replace("LayerVersion", "Layer")] = {"Type": rtype, "Properties": props}
    return {"Transform": "AWS::Serverless-2016-10-31", "Resources": resources}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nearly_valid_templates())
def test_the_transform_gives_cloudformation_or_a_template_error_for_nearly_valid_templates(doc):
    transform = _transform()
    try:
        out = transform(_loaded(doc).data)
    except TemplateError as exc:
        assert exc.message
        return
    assert "Transform" not in out or "AWS::Serverless-2016-10-31" not in json.dumps(out["Transform"])
    for res in out["Resources"].values():
        assert not str(res.get("Type", "")).startswith("AWS::Serverless::")
    json.dumps(out)


def test_the_unperturbed_template_transforms():
    """The base of the strategy above is valid: the fuzzing starts from working input, not from an error."""
    transform = _transform()
    doc = {"Transform": "AWS::Serverless-2016-10-31",
           "Resources": {**FIXED, **{t.rsplit("::", 1)[-1].replace("LayerVersion", "Layer"): {"Type": t, "Properties": p}
                                     for t, p in GOOD.items()}}}
    out = transform(_loaded(doc).data)
    assert {"AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::CodeDeploy::DeploymentGroup",
            "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::Lambda::LayerVersion",
            "AWS::DynamoDB::Table"} <= {r["Type"] for r in out["Resources"].values()}
    assert validate_template(_loaded(doc)) == []
