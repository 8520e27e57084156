"""Parameter overrides, tags and capabilities as parsed from flags, files and lamctl.toml (pure logic)."""

from __future__ import annotations

import json

import pytest

from lamctl.release.stack_params import (load_parameter_file, overrides_from_config, parse_capabilities,
                                         parse_overrides, parse_tags, resolve_parameters)
from lamctl.schemas.errors import UsageError


def pairs(overrides):
    return [(o.key, o.value) for o in overrides]


def test_flag_forms_and_quoting():
    got = parse_overrides(["Env=prod Url=https://x/?a=b", "ParameterKey=Subnets,ParameterValue=s-1,s-2",
                           "Name='two words'"])
    assert pairs(got) == [("Env", "prod"), ("Url", "https://x/?a=b"), ("Subnets", "s-1,s-2"),
                          ("Name", "two words")]
    assert all(o.where == "--parameter-overrides" for o in got)
    assert pairs(parse_overrides(["Empty="])) == [("Empty", "")]


@pytest.mark.parametrize("bad", ["=x", "novalue", "ParameterKey=A", "ParameterKey=,ParameterValue=1", "'unclosed"])
def test_bad_flag_forms(bad):
    with pytest.raises(UsageError) as err:
        parse_overrides([bad])
    assert err.value.where == "--parameter-overrides"
    assert err.value.hint


def test_file_forms(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"A": "1", "B": 2, "C": True, "D": ["x", "y"]}))
    assert pairs(load_parameter_file(str(tmp_path / "a.json"))) == [("A", "1"), ("B", "2"), ("C", "true"),
                                                                    ("D", "x,y")]
    (tmp_path / "b.json").write_text(json.dumps([{"ParameterKey": "A", "ParameterValue": "1"},
                                                 {"ParameterKey": "B", "UsePreviousValue": True}]))
    assert pairs(load_parameter_file(str(tmp_path / "b.json"))) == [("A", "1")]
    (tmp_path / "c.yaml").write_text("- A=1\n- B=two\n")
    got = load_parameter_file(str(tmp_path / "c.yaml"))
    assert pairs(got) == [("A", "1"), ("B", "two")]
    assert got[1].where.endswith("c.yaml:2:3")
    (tmp_path / "d.yaml").write_text("")
    assert load_parameter_file(str(tmp_path / "d.yaml")) == []
    # numbers keep their spelling: 1.10 is not 1.1
    (tmp_path / "e.yaml").write_text("Version: 1.10\n")
    assert pairs(load_parameter_file(str(tmp_path / "e.yaml"))) == [("Version", "1.10")]


@pytest.mark.parametrize("text, where, needle", [
    ('{"A": ', "bad.json:1:", "invalid JSON/YAML"),
    ('[{"ParameterValue": "1"}]', "bad.json:1:2", "no ParameterKey"),
    ('[{"ParameterKey": "A"}]', "bad.json:1:2", "has no ParameterValue"),
    ('"just a string"', "bad.json:1:1", "holds an object or a list"),
    ('{"A": {"nested": 1}}', "bad.json:1:7", "must be a string"),
])
def test_bad_files_point_at_the_place(tmp_path, text, where, needle):
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(UsageError) as err:
        load_parameter_file(str(tmp_path / "bad.json"))
    assert where in err.value.where and needle in err.value.message


def test_file_tokens_are_relative_to_the_base_folder(tmp_path):
    (tmp_path / "p.json").write_text('{"A": "1"}')
    assert pairs(parse_overrides(["file://p.json B=2"], base_dir=str(tmp_path))) == [("A", "1"), ("B", "2")]


def test_config_forms():
    assert pairs(overrides_from_config({"A": 1, "B": False}, "lamctl.toml:3")) == [("A", "1"), ("B", "false")]
    assert pairs(overrides_from_config(["A=1", "B=2 C=3"], "lamctl.toml:3")) == [("A", "1"), ("B", "2"), ("C", "3")]
    assert pairs(overrides_from_config("A=1", "lamctl.toml:3")) == [("A", "1")]
    assert overrides_from_config({"A": 1}, "lamctl.toml:3")[0].where == "lamctl.toml:3"


TEMPLATE = {"Parameters": {
    "Env": {"Type": "String", "AllowedValues": ["dev", "prod"]},
    "Secret": {"Type": "String", "NoEcho": True, "Default": "x"},
    "Subnets": {"Type": "CommaDelimitedList", "AllowedValues": ["a", "b"]},
}}


def test_resolution_rules():
    over = parse_overrides(["Env=dev Secret=hunter2 Subnets=a,b Env=prod"])
    choices = resolve_parameters(TEMPLATE, over, previous={})
    assert [(c.key, c.source, c.value, c.shown) for c in choices] == [
        ("Env", "override", "prod", "prod"),  # the last one wins
        ("Secret", "override", "hunter2", "****"),  # NoEcho values are never shown
        ("Subnets", "override", "a,b", "a,b"),  # lists are not checked value by value here
    ]
    with pytest.raises(UsageError, match="not one of the allowed values dev, prod"):
        resolve_parameters(TEMPLATE, parse_overrides(["Env=qa Subnets=a"]), previous={})
    with pytest.raises(UsageError) as err:
        resolve_parameters(TEMPLATE, parse_overrides(["Env=dev"]), previous={})
    assert "Subnets has no value" in err.value.message and "Subnets=VALUE" in err.value.hint
    kept = resolve_parameters(TEMPLATE, parse_overrides(["Env=dev"]), previous={"Subnets": "a", "Secret": "****"})
    assert [(c.key, c.source) for c in kept] == [("Env", "override"), ("Secret", "previous"),
                                                 ("Subnets", "previous")]
    assert kept[1].to_api() == {"ParameterKey": "Secret", "UsePreviousValue": True}
    with pytest.raises(UsageError, match="unknown parameter 'A'") as err:
        resolve_parameters({}, parse_overrides(["A=1"]), previous={})
    assert err.value.hint == "the template declares no parameters"


def test_tags_and_capabilities():
    assert parse_tags(["team=payments 'cost center=42'", "env=dev"]) == {"team": "payments", "cost center": "42",
                                                                        "env": "dev"}
    assert parse_tags({"a": 1}) == {"a": "1"}
    with pytest.raises(UsageError, match="at most 50"):
        parse_tags([" ".join(f"k{i}=v" for i in range(51))])
    assert parse_capabilities(["iam", "CAPABILITY_AUTO_EXPAND,CAPABILITY_IAM"]) == ("CAPABILITY_IAM",
                                                                                    "CAPABILITY_AUTO_EXPAND")
    with pytest.raises(UsageError, match="unknown capability"):
        parse_capabilities(["ROOT"])
