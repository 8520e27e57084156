"""Conformance of ``lamctl transform`` with the reference SAM transform, measured over a folder of templates.

    python tests/conformance/run.py [--corpus DIR ... | DIR ...] [--floor tests/conformance/floor.json] [--only NAME] [--quiet]

The corpus is the reference transform's own test templates (the ``tests/translator/input`` folder of the
aws-sam-translator repository, its success cases). It is not part of lamctl's repository: a checkout beside
the team's ``shared/`` folder finds it at ``../shared/conformance/sam-translator/input`` and ``.../pending``
(both are read); elsewhere, clone aws-sam-translator and pass ``--corpus PATH/tests/translator/input`` or set
``LAMCTL_CONFORMANCE_CORPUS`` (several folders joined with ``os.pathsep``).

Each template is transformed by lamctl and by ``aws-sam-translator`` (offline:
region us-east-1, parameter values param1=value1, param2=value2, the managed
policy names it bundles). Both outputs are compared in order
(``tests.helpers.normalise``): the arguments of every intrinsic function, a
function's ``Layers`` and every other list keep their order; only lists whose
order CloudFormation ignores are sorted (``UNORDERED_KEYS``: DependsOn, IAM
policies and statements, tags, the arguments of Fn::And / Fn::Or). The
reference's own suite sorts every list, which would hide a swapped ``Fn::If``.
Plus one documented difference: the REST API deployment ID (``<Api>Deployment<hash>``) and the hash
in its Description are replaced by a placeholder, because the reference hashes
a Python-2 rendering of its swagger document and lamctl does not.

For each template that differs it prints the resources and properties that
differ, then the share of the reference's resources that came out identical
and the count of identical templates. Templates whose features are out of
scope are skipped with a reason, counted and printed. Exit 1 when the share or
the count falls below the floor recorded in ``floor.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from dataclasses import dataclass, field

try:  # under pytest (importlib mode), tests/ is a package
    from tests.helpers import FakeServerlessRepo, mask_deployments, normalise, reference_transform
except ImportError:  # run as a script: the helpers sit in the folder above
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from helpers import FakeServerlessRepo, mask_deployments, normalise, reference_transform

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_ENV = "LAMCTL_CONFORMANCE_CORPUS"
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "conformance", "sam-translator"))
DEFAULT_FOLDER = os.path.join(SHARED, "input")
DEFAULT_FOLDERS = [DEFAULT_FOLDER, os.path.join(SHARED, "pending")]


def corpus_folders() -> list[str]:
    """The corpus: ``$LAMCTL_CONFORMANCE_CORPUS`` (folders joined with ``os.pathsep``), else the shared
    ``input`` and ``pending`` folders beside the checkout."""
    env = os.environ.get(CORPUS_ENV)
    if env:
        return [f for f in env.split(os.pathsep) if f]
    return [f for f in DEFAULT_FOLDERS if os.path.isdir(f)] or [DEFAULT_FOLDER]


def corpus_folder() -> str:
    """The first corpus folder (see :func:`corpus_folders`)."""
    return corpus_folders()[0]
FLOOR = os.path.join(HERE, "floor.json")
PARAMETERS = {"param1": "value1", "param2": "value2"}
REGION = "us-east-1"

# Features outside the scope of issue 3, by where they appear; a template using one is skipped.
# Templates where lamctl differs on purpose (still counted as different; the reason is printed).
DELIBERATE = {
    "resource_with_invalid_type.yaml": "a resource whose Type is not a string is an error in lamctl, "
                                       "passed through by the reference",
    "websocket_api_domain_globals.yaml": "two WebSocket APIs with domains in one hosted zone: lamctl's record set "
                                         "group holds both domains' records, the reference keeps only the last",
    "websocket_api_with_custom_domain_route53_multiple.yaml": "as websocket_api_domain_globals.yaml",
    "function_with_event_dest_conditional.yaml": "the reference nests {Condition: {Condition: name}} in the "
                                                 "Fn::And it generates, which CloudFormation rejects",
}
OUT_OF_SCOPE_EVENTS: dict[str, str] = {}
OUT_OF_SCOPE_PROPERTIES: dict[str, str] = {}


@dataclass
class Result:
    name: str
    total: int = 0
    identical: int = 0
    skipped: str | None = None
    error: str | None = None
    diffs: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.skipped and not self.error and not self.diffs and self.total == self.identical


# -- the two transforms ------------------------------------------------------------------------------
def load(path: str) -> dict:
    from lamctl.schemas.template import parse_text, plain

    with open(path, encoding="utf-8") as fh:
        return plain(parse_text(fh.read(), path))


def reference(template: dict) -> dict:
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["AWS_REGION"] = REGION
    from samtranslator.translator.arn_generator import ArnGenerator

    ArnGenerator.BOTO_SESSION_REGION_NAME = REGION  # its own region lookup is cached once per process
    # offline: the bundled managed policy map is all there is; the Serverless Application Repository is the
    # stand-in of the reference's own tests (tests.helpers.FakeServerlessRepo), for both transforms
    return reference_transform(template, PARAMETERS, sar=FakeServerlessRepo())


def applications():
    """lamctl's Serverless Application Repository lookup over the same stand-in as the reference's."""
    from lamctl.packager.sar import ApplicationRepository
    from lamctl.release.clock import FakeClock

    return ApplicationRepository(FakeServerlessRepo(), FakeClock())


def lamctl(template: dict) -> dict:
    from lamctl.transform import transform

    return transform(copy.deepcopy(template), REGION, dict(PARAMETERS), applications=applications())


def out_of_scope(template: dict) -> str | None:
    for lid, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict):
            continue
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props, dict):
            for name, event in (props.get("Events") or {}).items():
                if isinstance(event, dict) and event.get("Type") in OUT_OF_SCOPE_EVENTS:
                    return OUT_OF_SCOPE_EVENTS[event["Type"]]
            for key, reason in OUT_OF_SCOPE_PROPERTIES.items():
                if key in props:
                    return reason
    fn_globals = ((template.get("Globals") or {}).get("Function") or {}) if isinstance(template.get("Globals"),
                                                                                         dict) else {}
    for key, reason in OUT_OF_SCOPE_PROPERTIES.items():
        if isinstance(fn_globals, dict) and key in fn_globals:
            return reason
    return None


# -- comparison --------------------------------------------------------------------------------------
def _value_diff(path: str, want, got, out: list[str], depth: int = 0) -> None:
    if want == got:
        return
    if isinstance(want, dict) and isinstance(got, dict) and depth < 2:
        for k in sorted(set(want) | set(got), key=str):
            if k not in got:
                out.append(f"{path}.{k}: missing")
            elif k not in want:
                out.append(f"{path}.{k}: unexpected")
            else:
                _value_diff(f"{path}.{k}", want[k], got[k], out, depth + 1)
        return
    w = json.dumps(want, sort_keys=True, default=str)
    g = json.dumps(got, sort_keys=True, default=str)
    out.append(f"{path}: reference {w[:160]} / lamctl {g[:160]}")


def compare(name: str, want: dict, got: dict) -> Result:
    want = normalise(mask_deployments(want, inside_strings=True))
    got = normalise(mask_deployments(got, inside_strings=True))
    r = Result(name)
    wr, gr = want.get("Resources") or {}, got.get("Resources") or {}
    r.total = len(wr)
    for lid, res in wr.items():
        if lid not in gr:
            r.diffs.append(f"{lid} ({res.get('Type')}): missing in lamctl's output")
        elif gr[lid] == res:
            r.identical += 1
        else:
            _value_diff(lid, res, gr[lid], r.diffs)
    for lid in gr:
        if lid not in wr:
            r.diffs.append(f"{lid} ({gr[lid].get('Type')}): not in the reference's output")
    for section in sorted((set(want) | set(got)) - {"Resources"}):
        if want.get(section) != got.get(section):
            _value_diff(section, want.get(section), got.get(section), r.diffs)
    return r


def run_one(path: str) -> Result:
    name = os.path.basename(path)
    try:
        template = load(path)
    except Exception as exc:  # the loader refused it: that is lamctl's failure to count
        return Result(name, error=f"lamctl cannot load it: {exc}")
    reason = out_of_scope(template)
    if reason:
        return Result(name, skipped=f"out of scope: {reason}")
    try:
        want = reference(template)
    except Exception as exc:
        return Result(name, skipped=f"the reference rejects it offline: {str(exc)[:120]}")
    try:
        got = lamctl(template)
    except Exception as exc:
        r = Result(name, total=len(want.get("Resources") or {}))
        r.error = f"{type(exc).__name__}: {exc}"
        return r
    return compare(name, want, got)


ERRORS_FOLDER = os.path.join(SHARED, "errors")


def check_error(path: str) -> tuple[str, str | None]:
    """One template of the reference's error cases: ``("skipped", why)`` when the reference accepts it
    offline, ``("refused", None)`` when lamctl refuses it as a user would see it (a LamctlError of exit code 2
    with a location), else ``("accepted" | "unlocated" | "crashed", detail)``."""
    from lamctl.schemas.errors import LamctlError
    from lamctl.schemas.template import load_template
    from lamctl.transform import transform

    try:
        reference(load(path))
    except Exception:  # the reference refuses it (any of its errors)
        pass
    else:
        return "skipped", "the installed reference accepts it"
    try:
        template = load_template(path)
        transform(copy.deepcopy(template.data), REGION, dict(PARAMETERS), where=template.where,
                  applications=applications())
    except LamctlError as exc:
        if exc.exit_code == 2 and exc.where:
            return "refused", None
        return "unlocated", f"exit {exc.exit_code}, where={exc.where!r}: {exc.message[:160]}"
    except Exception as exc:
        return "crashed", f"{type(exc).__name__}: {str(exc)[:160]}"
    return "accepted", "lamctl transforms it"


def check_errors(folder: str, only: str | None, quiet: bool) -> tuple[int, int]:
    """Run :func:`check_error` over ``folder``; print what lamctl does not refuse; return (refused, counted)."""
    files = sorted(f for f in os.listdir(folder) if f.endswith((".yaml", ".yml", ".json")))
    if only:
        files = [f for f in files if only in f]
    refused = counted = 0
    for name in files:
        outcome, detail = check_error(os.path.join(folder, name))
        if outcome == "skipped":
            continue
        counted += 1
        if outcome == "refused":
            refused += 1
        elif not quiet:
            print(f"--- errors/{name}: {outcome}: {detail}")
    print(f"error cases the reference refuses: {counted}; lamctl refuses (exit 2, located): {refused}/{counted}")
    return refused, counted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="*", default=[], help="corpus folders (same as --corpus)")
    ap.add_argument("--corpus", action="append", default=[],
                    help=f"a corpus folder, may be repeated (default: ${CORPUS_ENV}, else "
                         f"{' and '.join(DEFAULT_FOLDERS)})")
    ap.add_argument("--floor", default=FLOOR, help="JSON with resource_share and identical_templates minimums")
    ap.add_argument("--only", help="run the templates whose file name contains this")
    ap.add_argument("--quiet", action="store_true", help="only the summary")
    ap.add_argument("--max-lines", type=int, default=12, help="differences printed per template")
    ap.add_argument("--region", default="us-east-1", help="region for both transforms (partition, AWS::Region)")
    ap.add_argument("--errors", default=None,
                    help=f"the reference's error cases, each must be refused (default: {ERRORS_FOLDER} when it "
                         "exists and the corpus is the default one; 'none' to skip)")
    args = ap.parse_args(argv)
    global REGION
    REGION = args.region
    if args.folder and args.corpus and args.folder != args.corpus:
        print("give the corpus once: folders or --corpus, not both", file=sys.stderr)
        return 2
    folders = args.folder or args.corpus or corpus_folders()
    for folder in folders:
        if not os.path.isdir(folder):
            print(f"no conformance corpus at {folder}\n"
                  "  it is the reference transform's own test templates: the tests/translator/input folder of the\n"
                  "  aws-sam-translator repository. Clone it and pass --corpus PATH/tests/translator/input, or set\n"
                  f"  {CORPUS_ENV}=PATH/tests/translator/input.", file=sys.stderr)
            return 2
    paths = []
    for folder in folders:
        paths += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".yaml", ".yml", ".json")))
    if args.only:
        paths = [p for p in paths if args.only in os.path.basename(p)]
    results = [run_one(p) for p in paths]

    skipped = [r for r in results if r.skipped]
    counted = [r for r in results if not r.skipped]
    total = sum(r.total for r in counted)
    identical = sum(r.identical for r in counted)
    same = sum(1 for r in counted if r.same)
    if not args.quiet:
        for r in counted:
            if r.same:
                continue
            print(f"--- {r.name}: {r.identical}/{r.total} resources identical")
            if r.name in DELIBERATE:
                print(f"    (deliberate: {DELIBERATE[r.name]})")
            if r.error:
                print(f"    lamctl failed: {r.error[:300]}")
            for line in r.diffs[:args.max_lines]:
                print(f"    {line}")
            if len(r.diffs) > args.max_lines:
                print(f"    ... {len(r.diffs) - args.max_lines} more")
        for r in skipped:
            print(f"skipped {r.name}: {r.skipped}")
    share = identical / total if total else 0.0
    print(f"templates: {len(results)} ({len(skipped)} skipped); identical templates: {same}/{len(counted)}; "
          f"resources identical: {identical}/{total} = {share:.1%}")
    errors_folder = args.errors
    if errors_folder is None and not (args.folder or args.corpus or os.environ.get(CORPUS_ENV)):
        errors_folder = ERRORS_FOLDER if os.path.isdir(ERRORS_FOLDER) else None
    refused = None
    if errors_folder and errors_folder != "none":
        if not os.path.isdir(errors_folder):
            print(f"no error cases at {errors_folder}", file=sys.stderr)
            return 2
        refused, _ = check_errors(errors_folder, args.only, args.quiet)
    if args.floor and os.path.exists(args.floor) and not args.only:
        with open(args.floor, encoding="utf-8") as fh:
            floor = json.load(fh)
        low = []
        if share + 1e-9 < floor.get("resource_share", 0):
            low.append(f"resource share {share:.1%} < floor {floor['resource_share']:.1%}")
        if same < floor.get("identical_templates", 0):
            low.append(f"identical templates {same} < floor {floor['identical_templates']}")
        if refused is not None and refused < floor.get("errors_refused", 0):
            low.append(f"error cases refused {refused} < floor {floor['errors_refused']}")
        if low:
            print("BELOW THE FLOOR: " + "; ".join(low), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
