"""Every Lambda quota at its edge: the limit itself is allowed, one more is refused (exit 2, naming the function
or the template line). Big files are sparse: they cost no disk."""

from __future__ import annotations

import pytest

from lamctl.packager import limits
from lamctl.packager.build import build_template
from lamctl.schemas.errors import LimitError
from tests.helpers import ONE_FUNCTION, load_written, write_files

APP = "def handler(e, c):\n    return 1\n"


def _sparse(path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)


def _write(tmp_path, text: str):
    write_files(tmp_path, {"src/app.py": APP})
    return load_written(tmp_path, text)


def test_the_quotas_are_lambdas():
    assert limits.UNZIPPED_MAX == 262_144_000
    assert limits.DIRECT_ZIPPED_MAX == 52_428_800
    assert limits.ENV_MAX == 4096 and limits.MAX_LAYERS == 5
    assert (limits.MEMORY_MIN, limits.MEMORY_MAX, limits.TIMEOUT_MIN, limits.TIMEOUT_MAX) == (128, 10240, 1, 900)


def test_a_function_and_its_layers_of_exactly_250_mb_pass_and_one_byte_more_is_refused():
    assert limits.check_unzipped("Fn", 262_144_000 - 1000, {"Deps": 1000}, []).left == 0
    with pytest.raises(LimitError) as err:
        limits.check_unzipped("Fn", 262_144_000 - 1000, {"Deps": 1001}, [])
    assert err.value.exit_code == 2 and err.value.where == "Fn" and "262,144,001 bytes" in err.value.message


def test_a_build_one_byte_over_250_mb_is_refused(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION)
    _sparse(tmp_path / "src" / "weights.bin", 262_144_000 - len(APP) + 1)
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert err.value.where == "Fn" and "262,144,001 bytes" in err.value.message


def test_a_build_of_exactly_250_mb_passes(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION)
    _sparse(tmp_path / "src" / "weights.bin", 262_144_000 - len(APP))
    result = build_template(tpl)
    assert result.artifact("Fn").unzipped_bytes == 262_144_000
    heads = {h.limit: h for h in result.headroom["Fn"]}
    assert heads[limits.UNZIPPED].left == 0


def test_a_direct_upload_of_exactly_50_mb_passes_and_one_byte_more_is_refused():
    assert limits.check_direct("Fn", 52_428_800, [], enforce=True).left == 0
    assert limits.check_direct("Fn", 1_000, [], enforce=True).left == 52_427_800  # well under: passes too
    with pytest.raises(LimitError) as err:
        limits.check_direct("Fn", 52_428_801, [], enforce=True)
    assert err.value.exit_code == 2 and err.value.where == "Fn" and "52,428,801 bytes" in err.value.message
    assert limits.check_direct("Fn", 52_428_801, [], enforce=False).left == -1  # through S3: only reported


def _layers(n: int) -> str:
    return "      Layers:\n" + "".join(f"        - arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1\n"
                                       for i in range(n))


def test_five_layers_pass_and_six_are_refused(tmp_path):
    heads = {h.limit: h for h in build_template(_write(tmp_path, ONE_FUNCTION + _layers(5))).headroom["Fn"]}
    assert heads[limits.LAYERS].left == 0
    with pytest.raises(LimitError) as err:
        build_template(_write(tmp_path, ONE_FUNCTION + _layers(6)))
    assert "6 layers" in err.value.message and err.value.where == f"{tmp_path / 'template.yaml'}:9:9"


def _environment(size: int) -> str:
    # {"V":"..."} is 8 bytes of JSON around the value
    return f"      Environment:\n        Variables:\n          V: {'x' * (size - 8)}\n"


def test_environment_of_exactly_4_kb_passes_and_one_byte_more_is_refused(tmp_path):
    heads = {h.limit: h for h in build_template(_write(tmp_path, ONE_FUNCTION + _environment(4096))).headroom["Fn"]}
    assert (heads[limits.ENVIRONMENT].used, heads[limits.ENVIRONMENT].left) == (4096, 0)
    with pytest.raises(LimitError) as err:
        build_template(_write(tmp_path, ONE_FUNCTION + _environment(4097)))
    assert "4,097 bytes" in err.value.message and err.value.where == f"{tmp_path / 'template.yaml'}:10:11"


@pytest.mark.parametrize("key,allowed,refused", [
    ("MemorySize", "128", "127"),
    ("MemorySize", "10240", "10241"),
    ("Timeout", "1", "0"),
    ("Timeout", "900", "901"),
])
def test_memory_and_timeout_at_their_edges(tmp_path, key, allowed, refused):
    assert build_template(_write(tmp_path, ONE_FUNCTION + f"      {key}: {allowed}\n")).artifact("Fn")
    with pytest.raises(LimitError) as err:
        build_template(_write(tmp_path, ONE_FUNCTION + f"      {key}: {refused}\n"))
    assert f"{key} is {int(refused):,}" in err.value.message and err.value.exit_code == 2
    assert err.value.where == f"{tmp_path / 'template.yaml'}:8:{6 + len(key) + 2 + 1}"


# -- found by mutation testing (tests/mutation/run.py): the figures and listings in the errors ----------------
def test_sizes_are_written_in_the_units_of_the_quotas_at_each_unit_edge():
    assert limits.size(1023) == "1023 B"
    assert limits.size(1024) == "1.0 KB"
    assert limits.size(1536) == "1.5 KB"
    assert limits.size(1024 * 1024 - 1) == "1,024.0 KB"
    assert limits.size(1024 * 1024) == "1.0 MB"
    assert limits.size(250 * 1024 * 1024) == "250.0 MB"


def test_largest_parts_group_by_package_under_python_and_by_folder_elsewhere():
    assert limits.largest_parts([("python/numpy/core.so", 5), ("python/numpy/x.so", 1), ("python/six.py", 3),
                                 ("lib/a.so", 2), ("app.py", 1)]) == [
        ("python/numpy/", 6), ("python/", 3), ("lib/", 2), ("app.py", 1)]


def test_the_largest_variables_are_listed_by_the_bytes_of_name_and_value(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION + f"""\
      Environment:
        Variables:
          Q: xxxxxx
          ABCD: wxyz
          BIG: {"x" * 4100}
""")
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert "Largest: BIG (4,103 bytes), ABCD (8 bytes), Q (7 bytes)" in err.value.message


def test_megabytes_keep_their_fraction():
    assert limits.size(3 * 1024 * 1024 // 2) == "1.5 MB"


def test_the_largest_parts_are_five_ties_by_name():
    parts = [(f"{name}/f", 10) for name in "fedcba"]
    assert limits.largest_parts(parts) == [(f"{name}/", 10) for name in "abcde"]


def test_no_layers_and_no_environment_use_nothing(tmp_path):
    heads = {h.limit: h for h in build_template(_write(tmp_path, ONE_FUNCTION)).headroom["Fn"]}
    assert (heads[limits.LAYERS].used, heads[limits.ENVIRONMENT].used) == (0, 0)


def _env_used(tmp_path, variables: str) -> int:
    tpl = _write(tmp_path, "Parameters:\n  P:\n    Type: String\n" + ONE_FUNCTION
                 + "      Environment:\n        Variables:\n" + variables)
    return {h.limit: h for h in build_template(tpl).headroom["Fn"]}[limits.ENVIRONMENT].used


def test_environment_bytes_are_measured_as_lambda_stores_them(tmp_path):
    assert _env_used(tmp_path, "          A: x\n") == len('{"A":"x"}')  # a small environment passes
    assert _env_used(tmp_path, "          N: 12\n") == len('{"N":"12"}')  # numbers are strings
    assert _env_used(tmp_path, "          V: é\n") == len('{"V":"é"}'.encode())  # UTF-8 bytes, not \\u escapes
    assert _env_used(tmp_path, "          R: !Ref P\n") == len('{"R":"{\\"Ref\\":\\"P\\"}"}')  # the intrinsic's JSON


def test_the_largest_variables_are_three_by_the_sum_of_name_and_value(tmp_path):
    tpl = _write(tmp_path, ONE_FUNCTION + f"""\
      Environment:
        Variables:
          ABCDEFGHIJ: xx
          Q: {"x" * 12}
          Z: ""
          BIG: {"x" * 4100}
""")
    with pytest.raises(LimitError) as err:
        build_template(tpl)
    assert err.value.message.endswith("Largest: BIG (4,103 bytes), Q (13 bytes), ABCDEFGHIJ (12 bytes)")


@pytest.mark.parametrize("value", ["true", "256.5"])
def test_a_memory_size_that_is_not_a_whole_number_is_a_template_error(tmp_path, value):
    from lamctl.schemas.errors import TemplateError

    with pytest.raises(TemplateError) as err:
        build_template(_write(tmp_path, ONE_FUNCTION + f"      MemorySize: {value}\n"))
    assert "whole number" in err.value.message and err.value.exit_code == 2
