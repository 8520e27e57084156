"""The ``Globals`` section, as the transform reads it.

The rules (which keys each serverless type accepts, how they merge, ``IgnoreGlobals``)
are shared by every layer and live in :mod:`lamctl.schemas.sam`; this module names them
for the transform's pipeline (``transform/__init__.py``) and its API step.
"""

from __future__ import annotations

from lamctl.schemas.sam import GLOBALS_REPLACE as REPLACE
from lamctl.schemas.sam import GLOBALS_SUPPORTED as SUPPORTED
from lamctl.schemas.sam import Globals, GlobalsError

__all__ = ["SUPPORTED", "REPLACE", "Globals", "GlobalsError"]
