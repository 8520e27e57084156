"""Lambda quotas, checked before anything is zipped or uploaded: each error names the artifact,
the figure, the limit and (for sizes) the largest parts inside; exit code 2."""

from __future__ import annotations

import os

import pytest

from lamctl.packager import limits
from lamctl.packager.build import build_template
from lamctl.schemas.errors import LimitError, TemplateError
from tests.helpers import ONE_FUNCTION, load_written, write_files

MB = 1024 * 1024


def _sparse(path, size: int) -> None:
    """A file of ``size`` bytes that costs no disk (reading it is not needed: the check comes first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)


def _write(tmp_path, text: str):
    write_files(tmp_path, {"src/app.py": "def handler(e, c):\n    return 1\n"})
    return load_written(tmp_path, text)


def test_function_plus_its_layers_over_250_mb_is_refused_before_zipping(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION + """\
      Layers:
        - !Ref Deps
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
""")
    _sparse(tmp_path / "src" / "models" / "weights.bin", 140 * MB)
    _sparse(tmp_path / "src" / "data" / "table.bin", 10 * MB)
    _sparse(tmp_path / "layer" / "python" / "numpy" / "core.so", 90 * MB)
    _sparse(tmp_path / "layer" / "python" / "scipy" / "linalg.so", 20 * MB)
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    e = err.value
    assert e.exit_code == 2 and e.where == "Fn"
    assert "260.0 MB unzipped" in e.message and "250.0 MB" in e.message
    assert "layer Deps 110.0 MB" in e.message and "its own code 150.0 MB" in e.message
    assert "models/ 140.0 MB" in e.message and "data/ 10.0 MB" in e.message
    assert not (tmp_path / ".lamctl" / "build" / "Fn.zip").exists(), "nothing is zipped once a limit fails"
    assert not (tmp_path / ".lamctl" / "build" / "Deps.zip").exists()


def test_a_layer_alone_over_250_mb_lists_its_largest_packages(tmp_path):
    tpl = _write(tmp_path, """\
Resources:
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
""")
    _sparse(tmp_path / "layer" / "python" / "torch" / "lib.so", 200 * MB)
    _sparse(tmp_path / "layer" / "python" / "numpy" / "core.so", 60 * MB)
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert err.value.where == "Deps"
    assert "python/torch/ 200.0 MB, python/numpy/ 60.0 MB" in err.value.message


def test_headroom_is_reported_for_each_limit(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION)
    result = build_template(tpl)
    art = result.artifact("Fn")
    heads = {h.limit: h for h in result.headroom["Fn"]}
    assert heads[limits.UNZIPPED].used == art.unzipped_bytes
    assert heads[limits.UNZIPPED].left == 250 * MB - art.unzipped_bytes
    assert heads[limits.DIRECT].used == art.zipped_bytes
    assert heads[limits.DIRECT].left == 50 * MB - art.zipped_bytes


def test_over_50_mb_zipped_is_refused_only_for_direct_upload(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION)
    with open(tmp_path / "src" / "noise.bin", "wb") as fh:
        for _ in range(51):
            fh.write(os.urandom(MB))
    result = build_template(tpl)  # through S3 it is fine
    assert result.artifact("Fn").zipped_bytes > 50 * MB
    assert result.headroom["Fn"][1].left < 0
    with pytest.raises(LimitError) as err:
        build_template(tpl, direct_upload=True)
    assert err.value.where == "Fn" and "zipped" in err.value.message
    assert "52,428,800" in err.value.message and "noise.bin" in err.value.message


def test_more_than_five_layers_points_at_the_layers_line(tmp_path):
    arns = "".join(f"        - arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1\n" for i in range(6))
    tpl = _write(tmp_path, ONE_FUNCTION + "      Layers:\n" + arns)
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert "6 layers" in err.value.message and "at most 5" in err.value.message
    assert err.value.where == f"{tmp_path / 'template.yaml'}:9:9"


def test_layers_from_globals_and_the_function_count_together(tmp_path):
    tpl = _write(tmp_path, "Globals:\n  Function:\n    Layers:\n"
                 + "".join(f"      - arn:aws:lambda:us-east-1:1:layer:g{i}:1\n" for i in range(3))
                 + ONE_FUNCTION
                 + "      Layers:\n" + "".join(f"        - arn:aws:lambda:us-east-1:1:layer:l{i}:1\n" for i in range(3)))
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert "6 layers" in err.value.message


def test_environment_over_4_kb_names_the_largest_variables(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION + f"""\
      Environment:
        Variables:
          SMALL: x
          CERT: {"A" * 4000}
          OTHER: {"B" * 200}
""")
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert "4,096 bytes" in err.value.message and "CERT (4,004 bytes)" in err.value.message
    assert err.value.where == f"{tmp_path / 'template.yaml'}:10:11"


def test_environment_just_under_4_kb_passes_with_no_headroom_left(tmp_path):
    # {"V":"..."} is 8 bytes of JSON around the value
    tpl = _write(tmp_path, ONE_FUNCTION + f"      Environment:\n        Variables:\n          V: {'x' * (4096 - 8)}\n")
    heads = {h.limit: h for h in build_template(tpl).headroom["Fn"]}
    assert (heads[limits.ENVIRONMENT].used, heads[limits.ENVIRONMENT].left) == (4096, 0)


@pytest.mark.parametrize("key,value,message", [
    ("MemorySize", "64", "MemorySize is 64 MB; Lambda allows 128 to 10,240"),
    ("MemorySize", "10241", "MemorySize is 10,241 MB"),
    ("Timeout", "0", "Timeout is 0 seconds; Lambda allows 1 to 900"),
    ("Timeout", "901", "Timeout is 901 seconds"),
])
def test_memory_and_timeout_out_of_range(tmp_path, key, value, message):
    tpl = _write(tmp_path, ONE_FUNCTION + f"      {key}: {value}\n")
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert message in err.value.message
    assert err.value.where == f"{tmp_path / 'template.yaml'}:8:{6 + len(key) + 2 + 1}"
    assert err.value.exit_code == 2


def test_a_limit_in_globals_points_at_globals(tmp_path):
    tpl = _write(tmp_path, "Globals:\n  Function:\n    Timeout: 1000\n" + ONE_FUNCTION)
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert err.value.where == f"{tmp_path / 'template.yaml'}:3:14"


def test_memory_that_is_not_a_number_is_a_template_error(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION + "      MemorySize: lots\n")
    with pytest.raises(TemplateError) as err:
        build_template(tpl)
    assert err.value.exit_code == 2 and "whole number" in err.value.message
    assert err.value.where == f"{tmp_path / 'template.yaml'}:8:19"


def test_values_known_only_at_deploy_time_are_not_guessed(tmp_path):
    tpl = _write(tmp_path, "Parameters:\n  Mem:\n    Type: Number\n" + ONE_FUNCTION + "      MemorySize: !Ref Mem\n")
    assert build_template(tpl).artifact("Fn").files == 1


def test_a_layer_given_by_arn_counts_when_its_size_is_known_and_warns_otherwise(tmp_path):
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:big:3"
    tpl = _write(tmp_path, ONE_FUNCTION + f"      Layers:\n        - {arn}\n")
    result = build_template(tpl)
    assert any("big:3" in w and "not known" in w for w in result.warnings)
    with pytest.raises(LimitError) as err:
        build_template(tpl, layer_size=lambda a: 250 * MB if a == arn else None)
    assert arn in err.value.message
