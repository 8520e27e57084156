"""The durable record of a release, saved before every alias write.

Where: ``lamctl/releases/<function>/<alias>/latest.json`` in an
:class:`~lamctl.release.aws.ObjectStore`: the artifact bucket (so another
machine can resume or roll back), else ``.lamctl/releases/...`` on disk. A
finished release is also copied to ``.../<id>.json``.

What: the plan (so a resumed release runs exactly the steps it started
with), the alias snapshot taken before the first write (version, routing,
RevisionId), the completed steps with their times, the step whose write is
in flight (``pending``), the state and the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from lamctl.schemas.errors import CloudError

PREFIX = "lamctl/releases/"

RUNNING = "running"
ROLLING_BACK = "rolling_back"
SUCCEEDED = "succeeded"
ROLLED_BACK = "rolled_back"
CONFLICT = "conflict"  # stopped: someone else moved the alias; nothing overwritten
FAILED = "failed"
ACTIVE = (RUNNING, ROLLING_BACK)
FORMAT = 1


def _safe(name: str) -> str:
    """A function name or ARN as one path segment."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def folder(function: str, alias: str) -> str:
    return f"{PREFIX}{_safe(function)}/{_safe(alias)}/"


@dataclass
class Release:
    id: str
    function: str
    alias: str
    plan: dict  # Plan.to_dict()
    snapshot: dict | None  # {"version", "weights", "revision_id"}; None when the alias did not exist
    state: str = RUNNING
    reason: str | None = None
    owner: str = ""
    engine: str = "lamctl"
    started: float = 0.0
    updated: float = 0.0
    finished: float | None = None
    completed: list[int] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)  # step index -> when it started
    pending: int | None = None  # an alias write saved here and maybe not done yet
    revision_id: str | None = None  # the alias RevisionId last seen
    events: list[dict] = field(default_factory=list)  # what happened, for status and the summary
    deployment_id: str | None = None  # --engine codedeploy
    format: int = FORMAT

    @property
    def current(self) -> str | None:
        return self.plan.get("current")

    @property
    def target(self) -> str:
        return self.plan["target"]

    @property
    def strategy(self) -> str:
        s = self.plan.get("strategy", {})
        return "all-at-once" if s.get("kind") == "all-at-once" else f"{s.get('kind')} {s.get('spec')}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> "Release":
        try:
            data = json.loads(raw)
            known = {f for f in cls.__dataclass_fields__}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # AttributeError: not an object
            raise CloudError(f"the release journal is damaged: {exc}", where=where,
                             hint="inspect it; delete it only once the alias is on one version at 100%") from None


class Journal:
    def __init__(self, store: Any):
        self.store = store

    def key(self, function: str, alias: str) -> str:
        return folder(function, alias) + "latest.json"

    def where(self, function: str, alias: str) -> str:
        key = self.key(function, alias)
        strip = getattr(self.store, "strip_prefix", "")
        return self.store.where + (key[len(strip):] if strip and key.startswith(strip) else key)

    def save(self, release: Release) -> None:
        self.store.put(self.key(release.function, release.alias), release.to_json())

    def archive(self, release: Release) -> None:
        self.store.put(folder(release.function, release.alias) + f"{release.id}.json", release.to_json())

    def load(self, function: str, alias: str) -> Release | None:
        raw = self.store.get(self.key(function, alias))
        if raw is None:
            return None
        return Release.from_json(raw, self.where(function, alias))

    # -- control requests from another process (promote / rollback while a release runs elsewhere)
    def control_key(self, function: str, alias: str) -> str:
        return folder(function, alias) + "control.json"

    def request(self, function: str, alias: str, release_id: str, action: str, by: str) -> None:
        body = json.dumps({"release": release_id, "action": action, "by": by}).encode()
        self.store.put(self.control_key(function, alias), body)

    def read_request(self, function: str, alias: str) -> dict | None:
        """The control request as stored (``release``, ``action``, ``by``, and ``note`` once the release saw it)."""
        raw = self.store.get(self.control_key(function, alias))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def pending_request(self, release: Release) -> str | None:
        data = self.read_request(release.function, release.alias)
        if data is None or data.get("release") != release.id:
            return None
        return data.get("action")

    def acknowledge(self, release: Release, action: str, note: str) -> None:
        """Tell the requester that the release saw its request and when it acts (e.g. after a hook)."""
        data = self.read_request(release.function, release.alias)
        if data is None or data.get("release") != release.id or data.get("action") != action:
            return
        data["note"] = note
        self.store.put(self.control_key(release.function, release.alias), json.dumps(data).encode())

    def clear_request(self, function: str, alias: str) -> None:
        self.store.delete(self.control_key(function, alias))
