"""The App: what every command receives (settings, output, the AWS client factory), and ``get_app(ctx)``.

Command modules import :func:`get_app` from here; ``lamctl.cli.app`` (the typer root) imports the
command modules (each when the command line names it), so they never import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import typer


@dataclass
class GlobalOptions:
    profile: Optional[str] = None
    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    local: bool = False
    env: Optional[str] = None
    config: Optional[str] = None
    output: str = "text"
    no_color: bool = False
    debug: bool = False


@dataclass
class App:
    """What every command receives: settings, output, and the AWS client factory."""

    opts: GlobalOptions
    settings: Any
    out: Any
    _clients: Any = field(default=None, repr=False)

    def setting(self, key: str, flag: Any = None, default: Any = None, kind: type | None = None) -> Any:
        return self.settings.get(key, flag, default, kind)

    @property
    def target_local(self) -> bool:
        return bool(self.opts.local or self.settings.get("target") == "local")

    def aws(self):
        """The client factory; with --local (or target = "local") it points at the local cloud."""
        if self._clients is None:
            from lamctl.cli.aws import ClientFactory

            endpoint = self.opts.endpoint_url
            if self.target_local and not endpoint:
                from lamctl.local.cloud.lifecycle import ensure_running

                endpoint = ensure_running(notify=self.out.info)
            self._clients = ClientFactory(
                profile=self.opts.profile,
                region=self.opts.region,
                endpoint_url=endpoint,
                local=self.target_local,
            )
        return self._clients


def get_app(ctx: typer.Context) -> App:
    root = ctx.find_root()
    if not isinstance(root.obj, App):  # pragma: no cover - only when a command is invoked without the callback
        raise RuntimeError("lamctl's global options were not processed")
    return root.obj
