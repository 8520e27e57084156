"""Lambda quotas (docs/architecture.md, facts of the platform), checked before anything leaves the machine. Pure: data in, errors out.

* 250 MB unzipped for a function plus all its layers;
* 50 MB zipped for a package sent directly to the Lambda API;
* at most 5 layers; 4 KB of environment variables (their JSON, as Lambda measures it);
* memory 128-10,240 MB; timeout 1-900 s.

A size error names the artifact, the figure and the limit, and lists the
largest folders or packages inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Iterable

from lamctl.schemas.errors import LimitError, TemplateError

MB = 1024 * 1024
UNZIPPED_MAX = 250 * MB
DIRECT_ZIPPED_MAX = 50 * MB
MAX_LAYERS = 5
ENV_MAX = 4 * 1024
MEMORY_MIN, MEMORY_MAX = 128, 10240
TIMEOUT_MIN, TIMEOUT_MAX = 1, 900

UNZIPPED = "unzipped"  # function + layers, 250 MB
DIRECT = "direct_upload"  # zipped, 50 MB
LAYERS = "layers"  # at most 5
ENVIRONMENT = "environment"  # 4 KB of variables
LABELS = {UNZIPPED: "250MB left", DIRECT: "50MB direct left", LAYERS: "layers left",
          ENVIRONMENT: "env 4KB left"}  # column headers: room left under each quota


@dataclass(frozen=True)
class Headroom:
    limit: str  # UNZIPPED or DIRECT
    used: int
    maximum: int

    @property
    def left(self) -> int:
        return self.maximum - self.used


def mb(n: int) -> str:
    return f"{n / MB:,.1f} MB"


def size(n: int) -> str:
    """Bytes in the units Lambda's quotas use (1 MB = 1,048,576 bytes, as in "250 MB")."""
    if abs(n) < 1024:
        return f"{n} B"
    if abs(n) < MB:
        return f"{n / 1024:,.1f} KB"
    return mb(n)


def largest_parts(sizes: Iterable[tuple[str, int]], depth_prefixes: tuple[str, ...] = ("python/",),
                  top: int = 5) -> list[tuple[str, int]]:
    """Bytes per top-level folder (or per package under ``python/``), largest first."""
    totals: dict[str, int] = {}
    for name, size in sizes:
        parts = name.split("/")
        if len(parts) > 2 and any(name.startswith(p) for p in depth_prefixes):
            key = parts[0] + "/" + parts[1] + "/"
        elif len(parts) > 1:
            key = parts[0] + "/"
        else:
            key = parts[0]
        totals[key] = totals.get(key, 0) + size
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def _listing(parts: list[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {mb(size)}" for name, size in parts)


def check_unzipped(owner: str, own: int, layers: dict[str, int], parts: list[tuple[str, int]]) -> Headroom:
    """Function code plus its layers against 250 MB; ``layers``: layer name -> unzipped bytes."""
    total = own + sum(layers.values())
    if total > UNZIPPED_MAX:
        detail = f"its own code {mb(own)}" + "".join(f", layer {k} {mb(v)}" for k, v in sorted(layers.items()))
        raise LimitError(
            f"{owner} is {mb(total)} unzipped ({total:,} bytes: {detail}); Lambda allows "
            f"{mb(UNZIPPED_MAX)} ({UNZIPPED_MAX:,} bytes) for a function and its layers. "
            f"Largest inside: {_listing(parts)}",
            where=owner,
            hint="exclude what the function does not need in .lamctlignore, move dependencies to a layer "
                 "shared with care, or use a container image",
        )
    return Headroom(UNZIPPED, total, UNZIPPED_MAX)


def check_direct(owner: str, zipped: int, parts: list[tuple[str, int]], enforce: bool) -> Headroom:
    if enforce and zipped > DIRECT_ZIPPED_MAX:
        raise LimitError(
            f"{owner} is {mb(zipped)} zipped ({zipped:,} bytes); a package sent directly to the Lambda API may be "
            f"{mb(DIRECT_ZIPPED_MAX)} ({DIRECT_ZIPPED_MAX:,} bytes). Largest inside (unzipped): {_listing(parts)}",
            where=owner,
            hint="upload through S3 (lamctl package / deploy with an S3 bucket), or make the package smaller",
        )
    return Headroom(DIRECT, zipped, DIRECT_ZIPPED_MAX)


def check_function_config(owner: str, props: dict, where: Callable[[tuple], str]) -> list[Headroom]:
    """Layers, environment, memory and timeout of one function's (Globals-merged) properties;
    the headroom left in layers and environment bytes.

    ``where(keys)`` answers file:line:col for a property path under the resource's Properties.
    A value written as an intrinsic counts as the JSON of the intrinsic (its real value is known at deploy)."""
    out = []
    layers = props.get("Layers")
    if isinstance(layers, list) and len(layers) > MAX_LAYERS:
        raise LimitError(f"{owner} uses {len(layers)} layers; Lambda allows at most {MAX_LAYERS}",
                         where=where(("Layers",)), hint="merge layers, or move code into the function")
    out.append(Headroom(LAYERS, len(layers) if isinstance(layers, list) else 0, MAX_LAYERS))
    env = props.get("Environment")
    size = 0
    if isinstance(env, dict) and isinstance(env.get("Variables"), dict):
        variables = env["Variables"]
        measured = {str(k): (v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), sort_keys=True)
                             if isinstance(v, (dict, list)) else str(v)) for k, v in variables.items()}
        size = len(json.dumps(measured, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > ENV_MAX:
            largest = sorted(measured.items(), key=lambda kv: -(len(kv[0]) + len(kv[1])))[:3]
            raise LimitError(
                f"{owner} has {size:,} bytes of environment variables; Lambda allows {ENV_MAX:,} bytes in all. "
                f"Largest: " + ", ".join(f"{k} ({len(k) + len(v):,} bytes)" for k, v in largest),
                where=where(("Environment", "Variables")),
                hint="move large values to SSM Parameter Store or Secrets Manager and read them at start-up",
            )
    out.append(Headroom(ENVIRONMENT, size, ENV_MAX))
    _range(owner, props, "MemorySize", MEMORY_MIN, MEMORY_MAX, "MB", where)
    _range(owner, props, "Timeout", TIMEOUT_MIN, TIMEOUT_MAX, "seconds", where)
    return out


def _range(owner: str, props: dict, key: str, lo: int, hi: int, unit: str, where) -> None:
    if key not in props:
        return
    value = props[key]
    if isinstance(value, dict):  # an intrinsic (Ref to a parameter, ...): known only at deploy time
        return
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (
            isinstance(value, str) and not value.strip().isdigit()):
        raise TemplateError(f"{owner}: {key} must be a whole number of {unit}, not {value!r}",
                            where=where((key,)), hint=f"use a number from {lo} to {hi}")
    n = int(value)
    if not lo <= n <= hi:
        raise LimitError(f"{owner}: {key} is {n:,} {unit}; Lambda allows {lo:,} to {hi:,}",
                         where=where((key,)), hint=f"use a number from {lo:,} to {hi:,}")
