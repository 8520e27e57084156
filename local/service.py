"""The local Lambda service: a template's functions, a pool of environments, one ``invoke``.

Used by ``lamctl local invoke`` (one invocation, then everything stops) and by
``lamctl local start-lambda`` (the Invoke API in front of it). Before each
invocation the function's template and code are checked for changes; changed
code gets a fresh spec (and so fresh environments).
"""

from __future__ import annotations

from .environment import InvokeResult
from .functions import FunctionNotFound, TemplateFunctions
from .pool import Pool

__all__ = ["FunctionNotFound", "LocalLambda"]


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

    def invoke(self, name: str, payload: bytes, **kwargs) -> InvokeResult:
        logical = self.resolve(name)
        return self.pool.invoke(logical, payload, **kwargs)

    def close(self) -> None:
        self.pool.close()
