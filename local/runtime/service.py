"""The local Lambda service: a template's functions, a pool of environments, one ``invoke``.

Used by ``lamctl local invoke`` (one invocation, then everything stops) and by
``lamctl local start-lambda`` (the Invoke API in front of it). Before each
invocation the function's template and code are checked for changes; changed
code gets a fresh spec (and so fresh environments).
"""

from __future__ import annotations

from dataclasses import dataclass

from .environment import InvokeResult
from .functions import ACCOUNT_ID, FunctionNotFound, TemplateFunctions
from .pool import Pool

__all__ = ["FunctionNotFound", "LocalLambda", "Target"]


@dataclass(frozen=True)
class Target:
    """What one invocation runs: the pool's name for the function (version) and the ARN it was invoked by."""

    key: str
    arn: str


class LocalLambda:
    def __init__(self, functions: TemplateFunctions, pool: Pool | None = None):
        self.functions = functions
        self.pool = pool or Pool()

    def resolve(self, name: str) -> str:
        """The logical ID of ``name`` (logical ID, FunctionName or ARN), with the pool up to date for it."""
        logical = self.functions.find(name)
        if logical is None:
            raise FunctionNotFound(name, self.functions.names())
        spec = self.functions.refresh(logical)
        self.pool.replace(spec)
        return logical

    def target(self, name: str, qualifier: str | None = None, headers: dict | None = None) -> Target:
        """The Invoke API's view: a template's functions exist as ``$LATEST`` only."""
        parts = name.split(":")
        if name.startswith("arn:") and len(parts) > 6:
            unqualified = parts[6]
        elif len(parts) >= 3 and parts[1] == "function":  # a partial ARN: 123456789012:function:name
            unqualified = name = parts[2]
        else:
            unqualified = name
        arn = f"arn:aws:lambda:{self.functions.region}:{ACCOUNT_ID}:function:{unqualified}"
        try:
            logical = self.resolve(name)
        except FunctionNotFound as exc:
            exc.arn = arn + (f":{qualifier}" if qualifier else "")
            raise
        if qualifier not in (None, "", "$LATEST"):
            raise FunctionNotFound(name, self.functions.names(), arn=f"{arn}:{qualifier}",
                                   detail="the local runtime serves $LATEST only")
        return Target(logical, arn + (f":{qualifier}" if qualifier else ""))

    def invoke(self, name: str, payload: bytes, **kwargs) -> InvokeResult:
        logical = self.resolve(name)
        return self.pool.invoke(logical, payload, **kwargs)

    def close(self) -> None:
        self.pool.close()
