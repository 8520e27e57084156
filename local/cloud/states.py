"""Step Functions on the local cloud: executions run by moto's interpreter, Task states on lamctl's runtime.

moto's interpreter (``moto.stepfunctions.parser``) runs an execution in a thread of the emulator; its Task
states call AWS through a client of their own. :func:`install` points those clients at the local cloud itself
(so a ``arn:aws:states:::lambda:invoke`` task, or a task whose ``Resource`` is a function ARN, reaches the
Lambda Invoke API that :mod:`lamctl.local.cloud.lambdas` answers with the deployed code), runs a version or an
alias ARN (weights drawn as Step Functions draws them), and times Wait states and Retry intervals by
:func:`wait`: their seconds times ``LAMCTL_STATES_WAIT_SCALE`` (default 1; ``0`` runs them at once, which is
what tests use). The CloudFormation resources (state machine, version, alias) are in
:mod:`lamctl.local.cloud.models`.
"""

from __future__ import annotations

import os
import random
import threading
from typing import Any

from . import moto_ext

WAIT_SCALE_ENV = "LAMCTL_STATES_WAIT_SCALE"
_rng = random.Random()
_rng_lock = threading.Lock()


def wait_scale() -> float:
    """The factor Wait states and Retry intervals are run with (read at each wait; a bad value counts as 1)."""
    raw = os.environ.get(WAIT_SCALE_ENV)
    try:
        scale = float(raw) if raw not in (None, "") else 1.0
    except ValueError:
        return 1.0
    return scale if scale >= 0 else 1.0


def wait(seconds: float, event: threading.Event | None) -> None:
    """Wait ``seconds`` (scaled); an execution that is stopped sets ``event`` and ends the wait early."""
    real = max(0.0, seconds) * wait_scale()
    if real <= 0:
        return
    if event is not None:
        event.wait(real)
    else:
        threading.Event().wait(real)


def choose(routes: list[tuple[str, float]]) -> str:
    """The version an alias execution runs: ``routes`` [(version ARN, weight in %)], drawn by weight."""
    with _rng_lock:
        draw = _rng.random() * 100.0
    total = 0.0
    for arn, weight in routes:
        total += weight
        if draw < total:
            return arn
    return routes[-1][0]


def install(endpoint: str | None) -> str | None:
    """Executions run, their AWS calls sent to ``endpoint`` (the local cloud's own address). None leaves the
    endpoint in force as it is: a server in a thread (:class:`~lamctl.local.cloud.emulator.EmulatorServer`)
    sets its own once it knows its port, and puts the one before back when it stops, so a local cloud that
    stops never leaves another one still running without its tasks' address. Returns the endpoint in force
    before."""
    moto_ext.enable_state_machine_executions()
    moto_ext.patch_state_machine_runs(wait)
    moto_ext.patch_state_machine_starts(choose)
    moto_ext.patch_state_machine_versions()
    moto_ext.patch_state_machine_sync_starts()  # StartSyncExecution (EXPRESS), answered when the execution ends
    if endpoint is None:
        return None
    return moto_ext.set_states_endpoint(endpoint)


def substitute(definition: str, substitutions: dict[str, Any] | None) -> str:
    """``${name}`` in a definition replaced by ``DefinitionSubstitutions`` values, as CloudFormation does."""
    for key, value in (substitutions or {}).items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        definition = definition.replace("${" + str(key) + "}", text)
    return definition
