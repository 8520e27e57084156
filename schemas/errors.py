"""The one error tree of lamctl, and the exit codes it maps to.

::

    LamctlError                  (exit 1)  root: message, hint, where
    ├── UsageError               (exit 2)  bad flags, bad input files, bad values
    │   ├── ConfigError          (exit 2)  lamctl.toml
    │   ├── TemplateError        (exit 2)  template.yaml: syntax, schema, semantics
    │   └── LimitError           (exit 2)  a Lambda or CloudFormation quota would be exceeded
    ├── BuildError               (exit 1)  a build step failed (pip, file system)
    ├── CloudError               (exit 1)  an AWS call failed
    │   ├── CredentialsError     (exit 1)  no credentials / no region
    │   └── ConflictError        (exit 1)  someone else holds the lock / moved the alias
    └── RolledBack               (exit 3)  a release failed and was rolled back

It lives in the lowest layer (``lamctl.schemas``) so that every layer can
raise it; only ``lamctl.cli`` turns it into an exit code and a message.

:func:`error_code`, :func:`error_message` and :func:`http_status` read what an
AWS service answered out of a botocore ``ClientError`` (duck-typed: no botocore
import here), for the gateways that turn it into one of these errors.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_ROLLED_BACK = 3


class LamctlError(Exception):
    """An expected failure: shown as one message (plus a hint), no traceback."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_dict(self) -> dict:
        out = {"error": type(self).__name__, "message": self.message, "exit_code": self.exit_code}
        if self.where:
            out["where"] = self.where
        if self.hint:
            out["hint"] = self.hint
        return out


class UsageError(LamctlError):
    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    pass


class TemplateError(UsageError):
    pass


class LimitError(UsageError):
    pass


class BuildError(LamctlError):
    pass


class CloudError(LamctlError):
    pass


class CredentialsError(CloudError):
    pass


class ConflictError(CloudError):
    pass


class RolledBack(LamctlError):
    exit_code = EXIT_ROLLED_BACK


def location(path: str | None, line: int | None = None, col: int | None = None) -> str | None:
    """``file:line:col`` as editors and GitHub annotations read it (1-based)."""
    if path is None:
        return None
    out = str(path)
    if line is not None:
        out += f":{line}"
        if col is not None:
            out += f":{col}"
    return out


def _response(exc: BaseException) -> dict:
    response: Any = getattr(exc, "response", None)
    return response if isinstance(response, dict) else {}


def error_code(exc: BaseException) -> str:
    """The service's error code (``NoSuchKey``, ``ResourceNotFoundException``, ``404``); "" when the failure
    carries none (a connection error, a parse error, anything but a botocore ``ClientError``)."""
    error = _response(exc).get("Error")
    return str(error.get("Code") or "") if isinstance(error, dict) else ""


def error_message(exc: BaseException) -> str:
    """The service's error message; "" when it gave none."""
    error = _response(exc).get("Error")
    return str(error.get("Message") or "") if isinstance(error, dict) else ""


def http_status(exc: BaseException) -> int:
    """The HTTP status of the service's answer; 0 when there was no answer."""
    meta = _response(exc).get("ResponseMetadata")
    try:
        return int(meta.get("HTTPStatusCode") or 0) if isinstance(meta, dict) else 0
    except (TypeError, ValueError):
        return 0
