"""Under CI a skipped test fails the run unless tests/skips.py lists it with its reason."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

LISTED = "tests/transform/test_transform_api_diff.py::test_conformance_corpus_api_templates_match_the_reference"


def _run(tmp_path: Path, files: dict[str, str], ci: bool) -> subprocess.CompletedProcess:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the temporary folder is the root: node ids as in lamctl
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(TESTS)
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "skips", "-p", "no:cacheprovider", "-q", "-rs"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


SKIPPING = {"tests/unit/test_tool.py": """\
    import pytest

    def test_passes():
        pass

    @pytest.mark.skipif(True, reason="the tool is not installed")
    def test_needs_the_tool():
        pass
"""}


def test_an_unlisted_skip_fails_a_ci_run_and_is_named(tmp_path):
    r = _run(tmp_path, SKIPPING, ci=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "tests/unit/test_tool.py::test_needs_the_tool: the tool is not installed" in r.stdout
    assert "tests/skips.py" in r.stdout


def test_outside_ci_a_skip_is_only_reported(tmp_path):
    r = _run(tmp_path, SKIPPING, ci=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed, 1 skipped" in r.stdout


def test_a_module_level_skip_counts_too(tmp_path):
    r = _run(tmp_path, {"tests/unit/test_ok.py": "def test_ok():\n    pass\n", "tests/unit/test_mod.py": """\
        import pytest

        pytest.importorskip("a_module_that_is_not_there", reason="not built yet")

        def test_x():
            pass
    """}, ci=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "tests/unit/test_mod.py: not built yet" in r.stdout


def test_a_listed_skip_with_its_listed_reason_passes_a_ci_run(tmp_path):
    listed = {LISTED.split("::")[0]: """\
        import pytest

        @pytest.mark.parametrize("name", ["api_a.yaml", "api_b.yaml"])
        def test_conformance_corpus_api_templates_match_the_reference(name):
            if name == "api_a.yaml":
                pytest.skip("known difference, listed in CORPUS_KNOWN_DIFFERENT")
            pytest.skip("the reference rejects it offline: it asks AWS")
    """}
    r = _run(tmp_path, listed, ci=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 skipped" in r.stdout


def test_the_same_test_skipped_for_another_reason_is_not_covered(tmp_path):
    other = {LISTED.split("::")[0]: """\
        import pytest

        def test_conformance_corpus_api_templates_match_the_reference():
            pytest.skip("conformance corpus not present")
    """}
    r = _run(tmp_path, other, ci=True)
    assert r.returncode == 1, r.stdout + r.stderr


def test_every_listed_skip_says_why():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("skips_under_test", TESTS / "skips.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ALLOWED and all(len(entry) == 3 and all(entry) for entry in module.ALLOWED)
    assert module.unlisted([("a::b[x]", "why")], [("a::b[*]", "w*", "because")]) == []
    assert module.unlisted([("a::b[x]", "why")], [("a::b[*]", "wh?", "because")]) == [("a::b[x]", "why")]
    assert module.unlisted([("a::b", "why")], [("a::c", "*", "because")]) == [("a::b", "why")]
