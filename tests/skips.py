"""The skips a CI run may have, each with its reason, in this one place.

Under ``CI`` (set by the CI runner) a skipped test that is not listed here fails the run: a skip there
means a tool the tests use was not installed (``.ci/run`` installs them) or a check silently stopped
running. Locally, skips are reported as usual and the run passes.

An entry is ``(test id pattern, skip reason pattern, why this skip is acceptable)``; the patterns are
patterns matched against the test's node id and the reason its skip gave, where ``*`` stands for any text
(and nothing else is special: ``[`` is a parametrised test's bracket).

tests/conftest.py loads this module as a pytest plugin (the hooks at the end).
"""

from __future__ import annotations

import os
import re

ALLOWED: list[tuple[str, str, str]] = [
    ("tests/transform/test_transform_api_diff.py::test_conformance_corpus_api_templates_match_the_reference[*]",
     "known difference, listed in CORPUS_KNOWN_DIFFERENT",
     "corpus templates where lamctl differs from the reference on purpose; the list says why, one by one"),
    ("tests/transform/test_transform_api_diff.py::test_conformance_corpus_api_templates_match_the_reference[*]",
     "the reference rejects it offline*",
     "corpus templates the reference transform cannot expand without AWS (it would call the service)"),
    ("tests/functional/test_go_functions.py::test_local_invoke_of_a_function_built_for_another_processor_says_so",
     "this machine runs * executables through qemu",
     "on a machine whose kernel runs the other processor's binaries (binfmt qemu) such a function simply runs"),
]

_CI = bool(os.environ.get("CI"))  # read at import: each test's isolated environment has no CI variable
_skipped: list[tuple[str, str]] = []
_unlisted: list[tuple[str, str]] = []


def skip_reason(report) -> str:
    """The reason a skipped report gave (pytest keeps it as "Skipped: <reason>" in longrepr)."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def unlisted(skipped: list[tuple[str, str]], allowed=None) -> list[tuple[str, str]]:
    """The (node id, reason) pairs of ``skipped`` that no entry of ``allowed`` covers."""
    allowed = ALLOWED if allowed is None else allowed
    return [(nodeid, reason) for nodeid, reason in skipped
            if not any(_matches(node_pattern, nodeid) and _matches(reason_pattern, reason)
                       for node_pattern, reason_pattern, _why in allowed)]


def _matches(pattern: str, text: str) -> bool:
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text, re.DOTALL) is not None


def pytest_runtest_logreport(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append((report.nodeid, skip_reason(report)))


def pytest_collectreport(report) -> None:
    if report.skipped:  # a module-level skip
        _skipped.append((report.nodeid, skip_reason(report)))


def pytest_sessionfinish(session, exitstatus) -> None:
    if not _CI:
        return
    _unlisted[:] = unlisted(_skipped)
    if _unlisted and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    if not _unlisted:
        return
    terminalreporter.section("skipped under CI, and not listed in tests/skips.py", red=True)
    for nodeid, reason in _unlisted:
        terminalreporter.line(f"{nodeid}: {reason}")
    terminalreporter.line("Install what the test needs in .ci/run, or list the skip with its reason in "
                          "tests/skips.py (ALLOWED).")
