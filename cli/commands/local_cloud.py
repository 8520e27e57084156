"""``lamctl local start|stop|status|trigger``: the local cloud (an AWS emulator on 127.0.0.1)."""

from __future__ import annotations

import datetime
from typing import Optional

import typer

from lamctl.cli.application import get_app


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _lambda_row(st) -> str:
    if st.lambda_runtime == "lamctl":
        n = st.environments or 0
        return f"runs the deployed code (lamctl local runtime, {n} environment{'s' if n != 1 else ''} warm)"
    if st.lambda_docker is False:
        return "echoes the payload (moto without Docker)"
    return "with Docker" if st.lambda_docker else "-"


def _rows(st) -> list[tuple[str, str]]:
    return [
        ("state", "running" if st.running else "stopped"),
        ("endpoint", st.endpoint or "-"),
        ("pid", str(st.pid) if st.pid else "-"),
        ("port", str(st.port) if st.port else "-"),
        ("lambda invoke", _lambda_row(st)),
        ("started", _when(st.started_at)),
        ("log", st.log_file or "-"),
        ("state file", st.state_file or "-"),
    ]


def start(
    ctx: typer.Context,
    port: Optional[int] = typer.Option(None, "--port", help="Port on 127.0.0.1 (default 4566, or "
                                                            "LAMCTL_LOCAL_PORT)."),
) -> None:
    """Start the local cloud in the background (moto's AWS emulator with lamctl's Lambda runtime, on 127.0.0.1)."""
    from lamctl.local.cloud import lifecycle as cloud

    import os

    from lamctl.schemas.errors import CloudError

    app = get_app(ctx)
    # not the lamctl.toml key "port": that one belongs to the local Lambda endpoint (start-lambda)
    asked = port is not None or bool(os.environ.get("LAMCTL_LOCAL_PORT"))
    port = port or cloud.configured_port()
    app.out.info(f"starting the local cloud on 127.0.0.1:{port} ...")
    st = cloud.start(port=port)
    if st.already and asked and st.port != port:
        source = "--port" if ctx.params.get("port") is not None else "LAMCTL_LOCAL_PORT"
        raise CloudError(f"the local cloud is already running at {st.endpoint} (pid {st.pid}); "
                         f"port {port} ({source}) was not used",
                         hint=f"use it at {st.endpoint}, or stop it with 'lamctl local stop' and start it again "
                              f"on port {port}")
    if st.already:
        human = (f"the local cloud is already running at {st.endpoint} (pid {st.pid}); "
                 "stop it with 'lamctl local stop'")
    else:
        human = (f"local cloud running at {st.endpoint} (pid {st.pid})\n"
                 f"use it with --local (or target = \"local\" in lamctl.toml); stop it with 'lamctl local stop'")
    app.out.result(True, human, **st.to_dict())


def stop(ctx: typer.Context) -> None:
    """Stop the local cloud and every process it started."""
    from lamctl.local.cloud import lifecycle as cloud

    app = get_app(ctx)
    st = cloud.stop()
    if st.pid is None or st.stale:
        app.out.result(True, "the local cloud is not running", stopped=False, **st.to_dict())
        return
    app.out.result(True, f"stopped the local cloud (pid {st.pid}, {st.endpoint})", stopped=True,
                   **st.to_dict())


def status(ctx: typer.Context) -> None:
    """Say whether the local cloud is running, where, and since when."""
    from lamctl.local.cloud import lifecycle as cloud

    app = get_app(ctx)
    st = cloud.status()
    if app.out.json:
        app.out.result(True, None, **st.to_dict())
        return
    if st.stale:
        app.out.warn(f"the local cloud recorded in {st.state_file} (pid {st.pid}) had exited; "
                     "its record was removed")
    if not st.running and (st.pid is None or st.stale):
        app.out.result(True, "the local cloud is not running; start it with 'lamctl local start'")
        return
    app.out.table(["field", "value"], _rows(st), title="local cloud")
    if st.pending_events:
        app.out.table(["request id", "function", "attempts", "state"],
                      [(e.get("request_id", "-"), e.get("function", "-"), str(e.get("attempts", 0)),
                        e.get("state", "-")) for e in st.pending_events],
                      title="pending asynchronous events")
    if not st.running:
        app.out.warn(f"pid {st.pid} is alive but does not answer; stop it with 'lamctl local stop'")


def trigger(ctx: typer.Context, rule: str = typer.Argument(
        ..., help="The EventBridge rule's name (or ARN), or an EventBridge Scheduler schedule's.")) -> None:
    """Fire an EventBridge rule or schedule of the local cloud now (its targets run as if its time had come)."""
    from lamctl.local.cloud import lifecycle as cloud
    from lamctl.schemas.errors import CloudError

    app = get_app(ctx)
    endpoint = app.opts.endpoint_url
    if not endpoint:
        st = cloud.status()
        if not st.running or not st.endpoint:
            raise CloudError("the local cloud is not running", hint="start it with 'lamctl local start'")
        endpoint = st.endpoint
    fired = cloud.trigger(endpoint, rule)
    targets = fired.get("targets") or []
    what = "schedule" if fired.get("kind") else "rule"
    app.out.result(True, f"fired {what} {fired['rule']} ({len(targets)} target(s)"
                   + (f": {', '.join(targets)}" if targets else "") + ")", **fired)
