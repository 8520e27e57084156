"""A Kafka event's ``SchemaRegistryConfig`` (MSK and SelfManagedKafka): lamctl's transform against the reference
``aws-sam-translator`` (offline). What the reference accepts comes out identical (the event source mapping's
``SchemaRegistryConfig`` and the role's Glue / Secrets Manager statements); what it refuses (a missing
``SchemaRegistryURI``, ``EventRecordFormat`` or ``SchemaValidationConfigs``, a format other than JSON or SOURCE,
a validation list or access list of the wrong shape) lamctl refuses too: exit 2, at the file:line of the
property, naming the function, the event and the field, and nothing written."""

from __future__ import annotations

import copy
import json

import pytest

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import load_template, parse_text, plain
from lamctl.transform import transform
from tests.helpers import normalise, reference_transform, write_template

pytest.importorskip("samtranslator", reason="the reference transform is a test dependency")

SOURCES = {
    "MSK": "          Type: MSK\n          Properties:\n"
           "            Stream: arn:aws:kafka:us-east-1:012345678901:cluster/c/1\n"
           "            StartingPosition: LATEST\n"
           "            Topics: [orders]\n",
    "SelfManagedKafka": "          Type: SelfManagedKafka\n          Properties:\n"
                        "            KafkaBootstrapServers: ['abc.xyz.com:9092']\n"
                        "            Topics: [orders]\n"
                        "            SourceAccessConfigurations:\n"
                        "              - {Type: SASL_SCRAM_512_AUTH, URI: 'arn:aws:secretsmanager:us-east-1:1:secret:s'}\n",
}
HEAD = ("Transform: AWS::Serverless-2016-10-31\n"
        "Parameters:\n  Registry: {Type: String, Default: 'arn:aws:glue:us-east-1:012345678901:registry/reg'}\n"
        "  Unset: {Type: String}\n"
        "Resources:\n  Consumer:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Runtime: python3.12\n      Handler: a.h\n      InlineCode: x\n      Events:\n        Orders:\n")
FULL = {"SchemaRegistryURI": "https://example.com/registry", "EventRecordFormat": "JSON",
        "SchemaValidationConfigs": [{"Attribute": "KEY"}, {"Attribute": "VALUE"}]}


def _text(source: str, config) -> str:
    """The template with ``config`` as the event's SchemaRegistryConfig (a JSON flow value on one line)."""
    return HEAD + SOURCES[source] + "            SchemaRegistryConfig: " + json.dumps(config) + "\n"


@pytest.fixture
def region(monkeypatch):
    from samtranslator.translator.arn_generator import ArnGenerator

    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", "us-east-1")


ACCEPTED = [
    FULL,
    {**FULL, "EventRecordFormat": "SOURCE", "SchemaValidationConfigs": []},
    {**FULL, "SchemaRegistryURI": "arn:aws:glue:us-east-1:012345678901:registry/orders"},
    {**FULL, "SchemaRegistryURI": {"Ref": "Unset"}},
    {**FULL, "SchemaRegistryURI": {"Fn::Sub": "arn:aws:glue:${AWS::Region}:012345678901:registry/sub"}},
    {**FULL, "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:1:secret:r"}]},
    {**FULL, "AccessConfigs": []},
    {},  # empty: no schema registry at all, as in the reference
]


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("config", ACCEPTED, ids=range(len(ACCEPTED)))
def test_a_schema_registry_the_reference_accepts_comes_out_identical(source, config, region):
    template = plain(parse_text(_text(source, config)))
    want = normalise(reference_transform(copy.deepcopy(template), {}))
    got = normalise(transform(copy.deepcopy(template), "us-east-1", {}))
    assert got == want
    esm = got["Resources"]["ConsumerOrders"]["Properties"]
    section = "AmazonManagedKafkaEventSourceConfig" if source == "MSK" else "SelfManagedKafkaEventSourceConfig"
    assert esm.get(section, {}).get("SchemaRegistryConfig") == (config or None)


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_registry_uri_from_a_parameter_names_the_registry_in_the_role(source, region):
    """A deliberate difference: the reference fails on a SchemaRegistryURI that is a parameter with a value;
    lamctl reads the registry's name from the parameter's value and grants the role the Glue actions on it."""
    template = plain(parse_text(_text(source, {**FULL, "SchemaRegistryURI": {"Ref": "Registry"}})))
    with pytest.raises(AttributeError):
        reference_transform(copy.deepcopy(template), {})
    out = transform(copy.deepcopy(template), "us-east-1", {})
    statements = [s for p in out["Resources"]["ConsumerRole"]["Properties"]["Policies"]
                  for s in p["PolicyDocument"]["Statement"]]
    assert {"Action": ["glue:GetRegistry"], "Effect": "Allow", "Resource": {"Ref": "Registry"}} in statements
    assert {"Action": ["glue:GetSchemaVersion"], "Effect": "Allow", "Resource": [
        {"Fn::Sub": "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:schema/reg/*"}]} in statements
    esm = out["Resources"]["ConsumerOrders"]["Properties"]
    section = "AmazonManagedKafkaEventSourceConfig" if source == "MSK" else "SelfManagedKafkaEventSourceConfig"
    assert esm[section]["SchemaRegistryConfig"]["SchemaRegistryURI"] == {"Ref": "Registry"}


def _without(key):
    return {k: v for k, v in FULL.items() if k != key}


REFUSED = [
    # (SchemaRegistryConfig, the property the error points at, words of the message)
    (_without("SchemaRegistryURI"), "SchemaRegistryConfig", "needs SchemaRegistryURI"),
    (_without("EventRecordFormat"), "SchemaRegistryConfig", "needs EventRecordFormat"),
    (_without("SchemaValidationConfigs"), "SchemaRegistryConfig", "needs SchemaValidationConfigs"),
    ({"EventRecordFormat": "JSON"}, "SchemaRegistryConfig", "needs SchemaRegistryURI"),
    ({**FULL, "EventRecordFormat": "AVRO"}, "EventRecordFormat", "JSON or SOURCE"),
    ({**FULL, "EventRecordFormat": "json"}, "EventRecordFormat", "JSON or SOURCE"),
    ({**FULL, "EventRecordFormat": {"Ref": "Registry"}}, "EventRecordFormat", "JSON or SOURCE"),
    ({**FULL, "SchemaValidationConfigs": {"Attribute": "KEY"}}, "SchemaValidationConfigs", "must be a list"),
    ({**FULL, "SchemaValidationConfigs": None}, "SchemaValidationConfigs", "must be a list"),
    ({**FULL, "AccessConfigs": {"Type": "BASIC_AUTH", "URI": "u"}}, "AccessConfigs", "must be a list"),
    ({**FULL, "AccessConfigs": None}, "AccessConfigs", "must be a list"),
    ({**FULL, "AccessConfigs": [{"Type": "BASIC_AUTH"}]}, "AccessConfigs", "item 1 needs Type and URI"),
    ({**FULL, "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": "u"}, {"URI": "u"}]}, "AccessConfigs",
     "item 2 needs Type and URI"),
    ({**FULL, "AccessConfigs": ["arn:secret"]}, "AccessConfigs", "item 1 needs Type and URI"),
    ({"Ref": "Registry"}, "SchemaRegistryConfig", "needs SchemaRegistryURI"),
]


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("config, prop, words", REFUSED, ids=range(len(REFUSED)))
def test_a_schema_registry_the_reference_refuses_is_a_located_error(source, config, prop, words, tmp_path,
                                                                    region):
    text = _text(source, config)
    with pytest.raises(Exception):
        reference_transform(plain(parse_text(text)), {})
    path = write_template(tmp_path, text)
    tpl = load_template(path)
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, "us-east-1", {}, where=tpl.where)
    err = info.value
    assert err.exit_code == 2
    assert "Consumer" in err.message and "Orders" in err.message and "SchemaRegistryConfig" in err.message
    assert words in err.message, err.message
    line = text.count("\n")  # the SchemaRegistryConfig line is the last one
    assert err.where.startswith(f"{path}:{line}:"), err.where
    column = int(err.where.split(":")[-1])
    if prop == "SchemaRegistryConfig":  # at the mapping itself
        assert column == len("            SchemaRegistryConfig: ") + 1, err.where
    else:  # at the field inside it (at the bad item of a list of items)
        value = config[prop]
        if "item" in words:
            value = value[int(words.split()[1]) - 1]
        assert text.splitlines()[-1][column - 1:].startswith(json.dumps(value)), err.where


def test_transform_refuses_a_registry_without_its_uri_and_writes_nothing(cli, tmp_path):
    text = _text("SelfManagedKafka", _without("SchemaRegistryURI"))
    path = write_template(tmp_path, text)
    result = cli("transform", "-t", path, "-o", tmp_path / "out.json")
    assert result.exit_code == 2, result
    assert f"{path}:{text.count(chr(10))}:" in result.stderr
    assert "SchemaRegistryURI" in result.stderr and "Orders" in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_validate_reports_a_registry_format_at_its_line(cli, tmp_path):
    text = _text("MSK", {**FULL, "EventRecordFormat": "AVRO"})
    path = write_template(tmp_path, text)
    result = cli("validate", "--no-lint", "-t", path)
    assert result.exit_code == 2, result
    assert f"{path}:{text.count(chr(10))}:" in result.stdout and "EventRecordFormat" in result.stdout
    write_template(tmp_path, text.replace("AVRO", "SOURCE"))
    assert cli("validate", "--no-lint", "-t", path).exit_code == 0
