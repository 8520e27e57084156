"""``lamctl sync``: push code straight to a deployed stack's functions, deploy only what needs a stack update.

The inner loop of SAM's ``sam sync``. One :meth:`Syncer.once`:

* reads the template and its *shape*: the template with every local code
  location masked (``CodeUri``, ``ContentUri``, ``Code``, ``Content``), plus the
  parameter values; a change of shape is a change of something other than code;
* compares it with the record of the last deploy this folder made of the stack
  (``.lamctl/sync/<stack>-<target>.json``, next to the template). No record, a
  different shape, another target, or a stack updated since (by someone else's
  deploy) means **deploy**: the full pipeline, through a change set;
* otherwise builds (incrementally) and pushes what changed, comparing each zip's
  SHA-256 with what Lambda holds:

  - a layer: ``PublishLayerVersion``, and the functions of the stack that used
    the old version are moved to the new one (``UpdateFunctionConfiguration``);
  - a function: ``UpdateFunctionCode`` with the zip, then waiting for
    ``LastUpdateStatus`` to leave ``InProgress`` (on the injected clock);
  - with ``AutoPublishAlias``: ``PublishVersion`` and the alias moved to it.

A stack changed this way differs from its template (its LayerVersion and
version resources, the code location) until the next deploy, as with SAM.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from lamctl.packager.artifacts import CODE_PROPERTIES, FUNCTION, LAYER
from lamctl.release.clock import Clock
from lamctl.schemas.errors import CloudError, UsageError, error_code, error_message

DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # UpdateFunctionCode / PublishLayerVersion with the zip inline
UPDATE_TIMEOUT = 300.0
SERVERLESS_FUNCTION = "AWS::Serverless::Function"


# ---------------------------------------------------------------- what changed


def _masked(value: Any) -> Any:
    """A code location as the shape sees it: a local path is code (masked), anything else is template."""
    if isinstance(value, str) and not value.startswith("s3://"):
        return "<local code>"
    return value


def template_shape(data: dict, parameters: dict[str, str] | None = None) -> str:
    """SHA-256 of the template with local code locations masked, and of the parameter values."""
    copy = json.loads(json.dumps(data, default=str))
    for res in (copy.get("Resources") or {}).values():
        if not isinstance(res, dict) or not isinstance(res.get("Properties"), dict):
            continue
        prop = CODE_PROPERTIES.get(res.get("Type"))
        if prop and prop[1] in res["Properties"]:
            res["Properties"][prop[1]] = _masked(res["Properties"][prop[1]])
    glob = (copy.get("Globals") or {}).get("Function") if isinstance(copy.get("Globals"), dict) else None
    if isinstance(glob, dict) and "CodeUri" in glob:
        glob["CodeUri"] = _masked(glob["CodeUri"])
    text = json.dumps({"template": copy, "parameters": parameters or {}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Record:
    """What this folder last deployed of a stack."""

    shape: str
    stack_updated: str | None

    @staticmethod
    def path(folder: str, stack: str, target: str) -> str:
        key = hashlib.sha256(target.encode()).hexdigest()[:12]
        return os.path.join(folder, ".lamctl", "sync", f"{stack}-{key}.json")

    @classmethod
    def load(cls, path: str) -> "Record | None":
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            return cls(str(data["shape"]), data.get("stack_updated"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"shape": self.shape, "stack_updated": self.stack_updated}, f)
        os.replace(tmp, path)


# ---------------------------------------------------------------- Lambda


@dataclass(frozen=True)
class CodeState:
    sha256: str  # base64, as Lambda reports CodeSha256
    layers: tuple[str, ...]


class SyncGateway:
    """The Lambda calls of a code push."""

    def __init__(self, client: Any, clock: Clock):
        self.client = client
        self.clock = clock

    def _fail(self, call: str, what: str, exc: Exception) -> CloudError:
        return CloudError(f"{call} of {what} failed ({error_code(exc)}): {error_message(exc) or exc}", where=what)

    def function(self, name: str) -> CodeState:
        from botocore.exceptions import ClientError

        try:
            cfg = self.client.get_function_configuration(FunctionName=name)
        except ClientError as exc:
            raise self._fail("GetFunctionConfiguration", name, exc) from None
        return CodeState(str(cfg.get("CodeSha256") or ""),
                         tuple(str(layer.get("Arn")) for layer in cfg.get("Layers") or []))

    def _layer_version(self, arn: str) -> dict:
        """GetLayerVersion by the version ARN's name and number (what every endpoint answers)."""
        name, _, number = arn.rpartition(":")
        return self.client.get_layer_version(LayerName=name, VersionNumber=int(number))

    def layer_sha(self, arn: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            resp = self._layer_version(arn)
        except (ClientError, ValueError):
            return None
        return str((resp.get("Content") or {}).get("CodeSha256") or "") or None

    def update_code(self, name: str, zip_path: str) -> None:
        from botocore.exceptions import ClientError

        with open(zip_path, "rb") as f:
            data = f.read()
        if len(data) > DIRECT_UPLOAD_LIMIT:
            raise UsageError(f"the code of {name} is {len(data)} bytes, over the 50 MB of a direct upload",
                             where=name, hint=f"deploy it instead: lamctl deploy (it uploads through S3)")
        try:
            self.client.update_function_code(FunctionName=name, ZipFile=data)
        except ClientError as exc:
            raise self._fail("UpdateFunctionCode", name, exc) from None

    def update_layers(self, name: str, layers: list[str]) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.update_function_configuration(FunctionName=name, Layers=layers)
        except ClientError as exc:
            raise self._fail("UpdateFunctionConfiguration", name, exc) from None

    def wait_updated(self, name: str, timeout: float = UPDATE_TIMEOUT, poll: float = 1.0) -> None:
        """Until ``LastUpdateStatus`` is ``Successful`` (a ``Failed`` update is a CloudError)."""
        from botocore.exceptions import ClientError

        deadline = self.clock.now() + timeout
        while True:
            try:
                cfg = self.client.get_function_configuration(FunctionName=name)
            except ClientError as exc:
                raise self._fail("GetFunctionConfiguration", name, exc) from None
            status = cfg.get("LastUpdateStatus") or "Successful"
            if status == "Successful":
                return
            if status == "Failed":
                raise CloudError(f"the update of {name} failed: {cfg.get('LastUpdateStatusReason') or 'no reason'}"
                                 f" ({cfg.get('LastUpdateStatusReasonCode') or 'Failed'})", where=name,
                                 hint="fix the cause and sync again (or deploy)")
            if self.clock.now() >= deadline:
                raise CloudError(f"the update of {name} did not finish within {timeout:.0f} s", where=name)
            self.clock.sleep(poll)

    def publish(self, name: str, sha256: str) -> str:
        from botocore.exceptions import ClientError

        try:
            return str(self.client.publish_version(FunctionName=name, CodeSha256=sha256)["Version"])
        except ClientError as exc:
            raise self._fail("PublishVersion", name, exc) from None

    def move_alias(self, name: str, alias: str, version: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.update_alias(FunctionName=name, Name=alias, FunctionVersion=version,
                                     RoutingConfig={"AdditionalVersionWeights": {}})
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise self._fail("UpdateAlias", f"{name}:{alias}", exc) from None
            try:
                self.client.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
            except ClientError as exc2:
                raise self._fail("CreateAlias", f"{name}:{alias}", exc2) from None

    def publish_layer(self, arn: str, zip_path: str) -> str:
        """A new version of the layer ``arn`` (a version ARN) with the zip, keeping its runtimes and
        architectures; the new version's ARN."""
        from botocore.exceptions import ClientError

        try:
            old = self._layer_version(arn)
        except ClientError as exc:
            raise self._fail("GetLayerVersion", arn, exc) from None
        with open(zip_path, "rb") as f:
            data = f.read()
        if len(data) > DIRECT_UPLOAD_LIMIT:
            raise UsageError(f"the layer {arn} is {len(data)} bytes, over the 50 MB of a direct upload", where=arn,
                             hint="deploy it instead: lamctl deploy (it uploads through S3)")
        name = arn.split(":")[6]
        kwargs: dict[str, Any] = {"LayerName": name, "Content": {"ZipFile": data}}
        for key in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if old.get(key):
                kwargs[key] = old[key]
        try:
            return str(self.client.publish_layer_version(**kwargs)["LayerVersionArn"])
        except ClientError as exc:
            raise self._fail("PublishLayerVersion", arn, exc) from None


# ---------------------------------------------------------------- one sync


@dataclass
class Pushed:
    resource: str  # logical ID
    physical: str  # function name or layer version ARN (the new one for a layer)
    kind: str  # FUNCTION or LAYER
    detail: str  # what was done, for a person
    version: str | None = None  # published version (AutoPublishAlias)
    alias: str | None = None


@dataclass
class SyncResult:
    action: str  # "deploy", "code" or "none"
    reason: str
    pushed: list[Pushed] = field(default_factory=list)
    seconds: float = 0.0


def auto_publish_alias(template: Any, logical_id: str, parameters: dict[str, str]) -> str | None:
    """The ``AutoPublishAlias`` of a serverless function (after Globals; a ``Ref`` to a parameter resolved)."""
    from lamctl.schemas.sam import Globals, merge_globals

    res = (template.data.get("Resources") or {}).get(logical_id)
    if not isinstance(res, dict) or res.get("Type") != SERVERLESS_FUNCTION:
        return None
    props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
    try:
        section = Globals.of(template.data, check=False).section_for(SERVERLESS_FUNCTION, logical_id,
                                                                     res.get("IgnoreGlobals"))
        props = merge_globals(section, props, "Function") if section else props
    except Exception:  # noqa: BLE001 - validate and build report a bad Globals; the resource's own value stands
        pass
    alias = props.get("AutoPublishAlias")
    if isinstance(alias, dict) and set(alias) == {"Ref"}:
        alias = parameters.get(str(alias["Ref"]))
    return str(alias) if isinstance(alias, str) and alias else None


class Syncer:
    """One stack, one template, one target. ``deploy()`` runs the full pipeline (a change set); ``build(template)``
    returns a :class:`lamctl.packager.build.BuildResult`."""

    def __init__(self, *, stack: str, template_path: str, target: str, parameters: dict[str, str],
                 stacks: Any, lam: SyncGateway, clock: Clock, build: Callable[[Any], Any],
                 deploy: Callable[[], None], notify: Callable[[str], None] = lambda _m: None):
        self.stack = stack
        self.template_path = template_path
        self.target = target
        self.parameters = parameters
        self.stacks = stacks
        self.lam = lam
        self.clock = clock
        self.build = build
        self.deploy = deploy
        self.notify = notify

    @property
    def record_path(self) -> str:
        return Record.path(os.path.dirname(os.path.abspath(self.template_path)), self.stack, self.target)

    def decide(self, template: Any) -> str | None:
        """Why a deploy is needed, or None when only code may have changed."""
        info = self.stacks.describe(self.stack)
        if info is None:
            return f"stack {self.stack} does not exist yet"
        if info.status.endswith("_IN_PROGRESS") or info.status.endswith("_FAILED") or "ROLLBACK" in info.status:
            return f"stack {self.stack} is {info.status}"
        record = Record.load(self.record_path)
        if record is None:
            return "first sync of this stack from this folder"
        if record.shape != template_shape(template.data, self.parameters):
            return "the template changed (not only code)"
        if record.stack_updated != (info.updated or info.created):
            return f"stack {self.stack} was updated since this folder's last deploy"
        return None

    def once(self) -> SyncResult:
        from lamctl.schemas.template import load_template

        start = self.clock.now()
        template = load_template(self.template_path)
        reason = self.decide(template)
        if reason is not None:
            self.notify(f"deploying: {reason}")
            self.deploy()
            info = self.stacks.describe(self.stack)
            if info is not None:
                Record(template_shape(template.data, self.parameters), info.updated or info.created).save(
                    self.record_path)
            return SyncResult("deploy", reason, seconds=self.clock.now() - start)
        pushed = self._push(template)
        return SyncResult("code" if pushed else "none", "only code changed" if pushed else "nothing changed",
                          pushed, self.clock.now() - start)

    def _push(self, template: Any) -> list[Pushed]:
        built = self.build(template)
        resources = [r for r in self.stacks.resources(self.stack) if r.physical_id]
        functions = {r.logical_id: r.physical_id for r in resources if r.resource_type == "AWS::Lambda::Function"}
        states = {lid: self.lam.function(name) for lid, name in functions.items()}
        pushed: list[Pushed] = []
        new_layers: dict[str, str] = {}  # layer ARN without version -> the version just published
        for art in built.artifacts:
            if art.kind != LAYER:
                continue
            deployed = _layer_resource(resources, art.resource)
            if deployed is None:
                continue
            unversioned = _unversioned(deployed)
            # the version the stack's functions run now (a sync may have published one since the deploy)
            in_use = [arn for st in states.values() for arn in st.layers if _unversioned(arn) == unversioned]
            current = max(in_use, key=_layer_number) if in_use else deployed
            if self.lam.layer_sha(current) == art.code_sha256:
                continue
            new = self.lam.publish_layer(current, art.zip_path)
            new_layers[unversioned] = new
            pushed.append(Pushed(art.resource, new, LAYER,
                                 f"published layer version {_layer_number(new)} ({new})"))
        for lid, name in functions.items():
            art = next((a for a in built.artifacts if a.resource == lid and a.kind == FUNCTION), None)
            state = states[lid]
            did = []
            layers = [new_layers.get(_unversioned(arn), arn) for arn in state.layers]
            if tuple(layers) != state.layers:
                self.lam.update_layers(name, layers)
                self.lam.wait_updated(name)
                did.append("layers")
            if art is not None and state.sha256 != art.code_sha256:
                self.lam.update_code(name, art.zip_path)
                self.lam.wait_updated(name)
                did.append("code")
            if not did:
                continue
            entry = Pushed(lid, name, FUNCTION, "updated " + " and ".join(did))
            alias = auto_publish_alias(template, lid, self.parameters)
            if alias:
                entry.version = self.lam.publish(name, self.lam.function(name).sha256)
                entry.alias = alias
                self.lam.move_alias(name, alias, entry.version)
                entry.detail += f", published version {entry.version}, alias {alias} moved to it"
            pushed.append(entry)
        return pushed


def _unversioned(arn: str) -> str:
    return arn.rsplit(":", 1)[0] if arn.count(":") >= 7 else arn


def _layer_number(arn: str) -> int:
    tail = arn.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _layer_resource(resources: list, logical_id: str) -> str | None:
    """The deployed version ARN of a layer of the template: its own logical ID, or SAM's ``<ID><10 hex>``."""
    for r in resources:
        if r.resource_type != "AWS::Lambda::LayerVersion":
            continue
        rest = r.logical_id[len(logical_id):] if r.logical_id.startswith(logical_id) else None
        if rest == "" or (rest is not None and len(rest) == 10 and all(c in "0123456789abcdef" for c in rest)):
            return r.physical_id
    return None
