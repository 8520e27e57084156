"""The addresses the local cloud answers besides AWS's own APIs, built and matched in one place.

* ``GET {endpoint}/lamctl-api/status``: what the local runtime is doing (:func:`status_url`);
* ``GET {endpoint}/lamctl-api/hooks/{lifecycleEventHookExecutionId}``: the verdict a traffic hook
  reported through CodeDeploy's ``PutLifecycleEventHookExecutionStatus`` (:func:`hook_status_url`);
* ``{endpoint}/restapis/{api_id}/{stage}/_user_request_/{path}``: a REST or HTTP API deployed to the
  local cloud, execute-api's stand-in (:func:`api_url`, matched by :data:`USER_REQUEST`);
* ``POST {endpoint}/lamctl-api/rules/{name}/trigger``: fire an EventBridge rule now (:func:`trigger_url`);
* ``{endpoint}/lambda-url/{url_id}/{path}``: a Lambda function URL on the local cloud (:func:`function_url`,
  matched by :data:`FUNCTION_URL`; also ``Host: {url_id}.lambda-url.{region}.on.aws``, :data:`FUNCTION_URL_HOST`).

Standard library only: commands import it without loading the emulator.
"""

from __future__ import annotations

import re
from urllib.parse import quote

STATUS_PATH = "/lamctl-api/status"
RULES_PATH = "/lamctl-api/rules/"  # POST {RULES_PATH}{rule name}/trigger fires an EventBridge rule now
HOOKS_PATH = "/lamctl-api/hooks/"
FUNCTION_URL = re.compile(r"^/lambda-url/(?P<id>[a-z0-9]+)(?P<path>/.*)?$")
FUNCTION_URL_HOST = re.compile(r"^(?P<id>[a-z0-9]+)\.lambda-url\.(?:[a-z0-9-]+\.on\.aws|localhost)(?::\d+)?$",
                               re.IGNORECASE)
USER_REQUEST = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")


def status_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + STATUS_PATH


def hook_status_url(endpoint: str, execution_id: str = "") -> str:
    """Where the local cloud answers ``{"status": ...}`` for a hook execution (404 when none was reported).

    Without ``execution_id``: the prefix that ``LambdaGateway.hook_reports_url`` takes (the gateway
    appends the quoted execution ID itself)."""
    return endpoint.rstrip("/") + HOOKS_PATH + quote(execution_id, safe="")


def api_url(endpoint: str, api_id: str, stage: str, path: str = "") -> str:
    """Where a stage of an API deployed to the local cloud answers (``path`` below its root; the stage root
    without it). The stage is quoted: an HTTP API's ``$default`` is written ``%24default``, so that a URL
    pasted into a shell has nothing to expand (the local cloud decodes it back)."""
    return (f"{endpoint.rstrip('/')}/restapis/{quote(api_id, safe='')}/{quote(stage, safe='')}/_user_request_/"
            f"{path.lstrip('/')}")


def function_url(endpoint: str, url_id: str) -> str:
    """Where a function URL answers on the local cloud (Lambda's own URLs end with ``/`` too)."""
    return f"{endpoint.rstrip('/')}/lambda-url/{url_id}/"


def trigger_url(endpoint: str, rule: str) -> str:
    """Where ``lamctl local trigger RULE`` asks the local cloud to fire a rule now."""
    return endpoint.rstrip("/") + RULES_PATH + quote(rule, safe="") + "/trigger"
