"""Plain helpers that several test files share: templates and files on disk, zips, lamctl in a child process,
and the comparison with the reference SAM transform.

Import them as ``from tests.helpers import ...`` (pytest's importlib mode makes ``tests`` a package);
``tests/conformance/run.py`` also runs as a script and imports them from this folder then.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# One Python function, Fn, whose code is the folder src/ next to the template.
ONE_FUNCTION = """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Runtime: python3.12
      Handler: app.handler
"""


# -- templates and files -----------------------------------------------------------------------------------
def write_template(folder, text: str, name: str = "template.yaml") -> Path:
    """Write ``text`` to ``folder/name``; the path written."""
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    return path


def load_written(folder, text: str, name: str = "template.yaml"):
    """Write a template like :func:`write_template`, then load it as lamctl does (``load_template``)."""
    from lamctl.schemas.template import load_template

    return load_template(str(write_template(folder, text, name)))


def template_from_text(text: str, path: str = "template.yaml"):
    """A ``Template`` parsed from ``text`` as if read from ``path`` (locations say ``path:line:col``)."""
    from lamctl.schemas.template import Template, parse_text

    return Template(path=path, data=parse_text(text, path), text=text)


def write_files(root, files: dict[str, str]) -> None:
    """Write each ``relative/path: text`` under ``root``, making folders as needed."""
    for name, text in files.items():
        path = Path(root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# -- zips --------------------------------------------------------------------------------------------------
def write_zip(path, files: dict[str, str | bytes]) -> Path:
    """A stored (uncompressed) zip of ``files`` in the order given, every entry dated 1980-01-01."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME), data)
    return Path(path)


def code_zip(source: str) -> bytes:
    """A function's code as a zip in memory: ``app.py`` holding ``source``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def returning_zip(value: str) -> bytes:
    """A function whose ``app.handler`` returns ``value``, as a zip in memory."""
    return code_zip(f"def handler(event, context):\n    return {value!r}\n")


def zip_names(path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def zip_entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


# -- lamctl in a child process -----------------------------------------------------------------------------
def lamctl_in_child(args: list[str], cwd, *, before: str = "", after: str = "sys.exit(rc)\n",
                    timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``lamctl.cli.app.main(args)`` in a fresh Python process, for what only a whole process shows
    (a crash, the modules imported, a module made unimportable). ``before`` runs first (``sys`` is
    imported); ``after`` runs with the exit code in ``rc`` and by default exits with it."""
    code = f"import sys\n{before}from lamctl.cli.app import main\nrc = main({list(args)!r})\n{after}"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout)


# -- the reference SAM transform ---------------------------------------------------------------------------
def sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# Lists whose order CloudFormation and the services ignore, by the key that holds them: these are sorted before
# comparing. Every other list keeps its order: the arguments of an intrinsic function (Fn::If's branches,
# Fn::GetAtt's resource and attribute, Fn::Join's items), a function's Layers (a later layer overrides an earlier
# one), a state machine's or an API's ordered parts.
UNORDERED_KEYS = frozenset({
    "DependsOn",  # a set of resources to create first
    "ManagedPolicyArns", "Policies",  # a role's policies: a set
    "Statement", "Action", "NotAction", "Resource", "NotResource",  # IAM policy grammar: sets
    "Service", "AWS", "Federated",  # principals: sets
    "Tags",  # key-value pairs, keys unique
    "tags",  # an OpenAPI body's tags (x-amazon-apigateway-tag-value): the API's tags
    "Fn::And", "Fn::Or",  # the one pair of intrinsic functions whose arguments commute
})


def normalise(value: Any, key: str | None = None) -> Any:
    """Sort the lists whose order CloudFormation ignores (``UNORDERED_KEYS``), recursively; keep every other
    list, the arguments of every intrinsic function and a function's ``Layers`` in order."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        if key in UNORDERED_KEYS:
            return sorted(items, key=sort_key)
        return items
    return value


_DEPLOYMENT = re.compile(r"^(.*Deployment)([0-9a-f]{10})$")


def mask_deployments(template: dict, *, inside_strings: bool = False) -> dict:
    """Replace REST API Deployment logical IDs (``<Api>Deployment<10 hex>``), references to them and the digest
    in their Description by a placeholder: the one documented difference from the reference. With
    ``inside_strings``, IDs that stand inside a longer string (a ``Fn::Sub``) are replaced too."""
    renames = {lid: _DEPLOYMENT.match(lid).group(1) + "HASH"
               for lid, res in (template.get("Resources") or {}).items()
               if isinstance(res, dict) and res.get("Type") == "AWS::ApiGateway::Deployment"
               and _DEPLOYMENT.match(lid)}
    if not renames:
        return template

    def walk(v):
        if isinstance(v, dict):
            return {renames.get(k, k): walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str):
            if v in renames:
                return renames[v]
            if inside_strings:
                for old, new in renames.items():
                    if old in v:
                        v = v.replace(old, new)
            if v.startswith("RestApi deployment id: "):
                return "RestApi deployment id: HASH"
        return v

    return walk(template)


SAR_TEMPLATE_URL = "https://awsserverlessrepo-changesets-xxx.s3.amazonaws.com/signed-url"


class FakeServerlessRepo:
    """A ``serverlessrepo`` client with the applications of the reference's own tests: ``no-access``,
    ``non-existent`` and ``invalid-semver`` are refused (botocore ``ClientError``), ``expired`` answers an
    EXPIRED template, ``preparing`` is PREPARING for two reads, ``preparing-never-ready`` for ever; any other
    application is ACTIVE at :data:`SAR_TEMPLATE_URL`. ``calls`` lists (operation, ApplicationId)."""

    REFUSED = {"no-access": "AccessDeniedException", "non-existent": "NotFoundException",
               "invalid-semver": "NotFoundException"}

    def __init__(self):
        self.calls: list[tuple[str, Any]] = []
        self.reads: dict[Any, int] = {}

    def _answer(self, operation: str, app_id: Any, status: str = "ACTIVE") -> dict:
        from botocore.exceptions import ClientError

        self.calls.append((operation, app_id))
        if app_id in self.REFUSED:
            raise ClientError({"Error": {"Code": self.REFUSED[app_id], "Message": f"Cannot access application: "
                                         f"{app_id}."}}, operation)
        if app_id == "expired":
            status = "EXPIRED"
        elif app_id == "preparing-never-ready":
            status = "PREPARING"
        elif app_id == "preparing":
            self.reads[app_id] = self.reads.get(app_id, 0) + 1
            status = "PREPARING" if self.reads[app_id] <= 2 else "ACTIVE"
        return {"ApplicationId": app_id, "CreationTime": "x", "ExpirationTime": "x", "SemanticVersion": "1.1.1",
                "Status": status, "TemplateId": "id-xx-xx", "TemplateUrl": SAR_TEMPLATE_URL}

    def create_cloud_formation_template(self, ApplicationId, SemanticVersion=None):  # noqa: N803 (boto3's names)
        return self._answer("CreateCloudFormationTemplate", ApplicationId)

    def get_cloud_formation_template(self, ApplicationId, TemplateId):  # noqa: N803
        return self._answer("GetCloudFormationTemplate", ApplicationId)

    def get_application(self, ApplicationId, SemanticVersion=None):  # noqa: N803
        return self._answer("GetApplication", ApplicationId)


def reference_transform(template: dict, parameters: dict | None = None, sar: Any = None) -> dict:
    """The reference ``aws-sam-translator`` on a copy of ``template``, offline (its bundled managed policy map
    only). Its region comes from the environment and ``ArnGenerator``: callers set those. ``sar``: a
    ``serverlessrepo`` client for its Serverless Application Repository plugin (:class:`FakeServerlessRepo`);
    without one an ``AWS::Serverless::Application`` of SAR is refused (it would go to AWS)."""
    import logging

    from samtranslator.parser.parser import Parser
    from samtranslator.plugins.application.serverless_app_plugin import ServerlessAppPlugin
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)  # its metrics chatter

    def no_sar():
        raise RuntimeError("the reference would call the Serverless Application Repository")

    from samtranslator.sdk.parameter import SamParameterValues

    template, parameters = copy.deepcopy(template), dict(parameters or {})
    to_py27_compatible_template(template, parameters)  # as samtranslator.translator.transform.transform does
    values = SamParameterValues(parameters)  # what its default plugin is given (Translator.translate)
    values.add_default_parameter_values(template)
    values.add_pseudo_parameter_values(None)

    class WaitingPlugin(ServerlessAppPlugin):
        """Waits for PREPARING templates as CloudFormation's transform does, on simulated time (no sleep)."""

        def _get_sleep_time_sec(self) -> int:
            self._total_wait_time += self.SLEEP_TIME_SECONDS  # counted here; the plugin then sleeps 0 s
            return 0

    plugin = WaitingPlugin(sar_client=sar, sar_client_creator=None if sar else no_sar,
                           wait_for_template_active_status=True, parameters=values.parameter_values)
    translator = Translator(None, Parser(), plugins=[plugin])
    out = translator.translate(template, parameter_values=parameters, get_managed_policy_map=lambda: {})
    return undo_mark_unicode_str_in_template(out)


# -- other processes ---------------------------------------------------------------------------------------
def wait_for(predicate, what: str, limit: float = 60.0):
    """Wait for another process to reach a state (bounded; a test-side wait, never a product wait)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Gate:
    """A named pipe that a lamctl process, started with ``LAMCTL_FAULT_PAUSE`` (:mod:`lamctl.cli.faults`), waits
    at: ``reached()`` returns once the process is there, ``open_()`` lets it go on."""

    def __init__(self, folder, name: str = "gate"):
        self.path = str(Path(folder) / f"{name}.fifo")
        os.mkfifo(self.path)
        self.fd: int | None = None

    def env(self, point: str) -> dict:
        return {"LAMCTL_FAULT_PAUSE": f"{point}:{self.path}"}

    def reached(self, proc: subprocess.Popen, limit: float = 120.0) -> None:
        def opened():
            if proc.poll() is not None:
                raise AssertionError(f"exited {proc.returncode} before the gate: {proc.communicate()}")
            try:  # a FIFO opens for writing (non-blocking) only once a reader has it open
                self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                return False
            return True
        wait_for(opened, "the process to reach its gate", limit)

    def open_(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
