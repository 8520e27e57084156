"""``lamctl tune FUNCTION [--memory 128,...,3008] [-e event.json] [-n 10] [--parallel] [--plot FILE.svg]``.

The memory experiment of :mod:`lamctl.release.tune`: a version per memory size, a warm-up and ``-n``
invocations each, then a table (median and p90 duration, cost per million invocations, max memory used),
a chart and three picks (fastest, cheapest, best balance). ``$LATEST`` and the aliases are never what is
measured, and everything is put back at the end, also on Ctrl-C. ``--output json``: one ``tune_size``
object per size and the whole result last. ``--plot FILE.svg`` writes the chart as an SVG image.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.schemas.errors import CloudError, UsageError

DEFAULT_MEMORY = "128,256,512,1024,1769,2048,3008"


def _check_plot(path: str) -> str:
    """The --plot file, refused before anything runs when it cannot be written as SVG."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".png":
        raise UsageError(f"--plot {path}: lamctl draws charts as SVG only (PNG would need an image library)",
                         where="--plot", hint=f"give a .svg file (--plot {os.path.splitext(path)[0]}.svg); "
                                              "a browser, or rsvg-convert, turns it into PNG")
    if ext != ".svg":
        raise UsageError(f"--plot {path}: the file must end in .svg", where="--plot",
                         hint="for example --plot tune.svg")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--plot {path}: the folder {folder} does not exist", where="--plot",
                         hint="create the folder first, or write the chart elsewhere")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--plot {path}: the folder {folder} is not writable", where="--plot",
                         hint="write the chart to a folder you can write to")
    return path


def tune(
    ctx: typer.Context,
    function: str = typer.Argument(..., help="Function name or ARN (a logical ID with --stack)."),
    stack: Optional[str] = typer.Option(None, "--stack", help="Resolve FUNCTION as a logical ID of this stack."),
    memory: str = typer.Option(DEFAULT_MEMORY, "--memory", help="Memory sizes to try, in MB, comma-separated."),
    event: Optional[str] = typer.Option(None, "--event", "-e", help="Event JSON file, or - for stdin (default {})."),
    count: int = typer.Option(10, "-n", "--invocations", help="Measured invocations per size (after a warm-up)."),
    parallel: bool = typer.Option(False, "--parallel", help="Run each size's invocations at the same time."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Write the chart to FILE.svg."),
) -> None:
    """Measure a function at several memory sizes: duration, cost and memory used, with three picks."""
    from lamctl.cli.charts import marks, svg_chart, terminal_chart
    from lamctl.cli.faults import fault_from_env
    from lamctl.cli.wiring import system_clock
    from lamctl.release.tune import (PRICE_DATE, PRICE_REGION, Experiment, TuneGateway, balance_score,
                                     parse_sizes)
    from lamctl.schemas.event import read_event

    app = get_app(ctx)
    out = app.out
    sizes = parse_sizes(memory)
    if count < 1:
        raise UsageError(f"-n {count}: at least one invocation per size is needed", where="-n",
                         hint="for example -n 10")
    if plot:
        _check_plot(plot)
    payload = read_event(event)
    clients = app.aws()
    name = function
    if stack:
        from lamctl.release.stacks import StackGateway, function_name

        name = function_name(StackGateway(clients.client("cloudformation")), stack, function)
    if app.target_local:
        from lamctl.local.runtime.limits import support

        info = support()
        if not info.cpu:
            out.warn(f"on this machine's local cloud memory does not change a function's speed: {info.reason}")
        if not info.memory:
            out.warn(f"on this machine's local cloud MemorySize is not enforced as a memory limit: {info.reason}")
    # an invocation at 128 MB can take long: wait for it as long as Lambda's 15-minute limit, and never retry
    lam = clients.client("lambda", read_timeout=910, max_attempts=1)
    gateway = TuneGateway(lam, system_clock())

    def on_event(kind: str, data: dict) -> None:
        if kind == "published":
            out.event("tune_published", f"published version {data['version']} with {data['memory']} MB", **data)
        elif kind == "warm_up":
            out.event("tune_measuring", f"{data['memory']} MB: warm-up, then {count} invocations", **data)
        elif kind == "restored":
            deleted = ", ".join(data["deleted"]) or "none"
            out.event("tune_restored", f"restored: {name} has {data['memory']} MB again; versions deleted: "
                                       f"{deleted}", **data)

    experiment = Experiment(gateway, name, sizes, payload=payload, n=count, parallel=parallel, on_event=on_event,
                            fault=fault_from_env())
    result = experiment.run()
    picks = result.picks
    rows, records = [], []
    for s in result.sizes:
        score = balance_score(s, result.sizes)
        errors = ", ".join(f"{k} x{v}" for k, v in sorted(s.errors.items()))
        rows.append([f"{s.memory} MB",
                     "-" if s.median_ms is None else f"{s.median_ms:.1f}",
                     "-" if s.p90_ms is None else f"{s.p90_ms:.1f}",
                     "-" if s.cost_per_million is None else f"{s.cost_per_million:.2f}",
                     f"{s.max_memory_mb}", errors or "-", marks(s.memory, picks) or ""])
        record = s.as_dict()
        record["balance_score"] = None if score is None else round(score, 3)
        records.append(record)
    columns = ["memory", "median ms", "p90 ms", "USD per 1M", "max used MB", "errors", "pick"]
    out.table(columns, rows, title=f"{name} ({result.architecture}), {count} invocations per size"
                                   + (" in parallel" if parallel else ""),
              type_="tune_size", records=records, drop=["errors"])
    if plot:
        with open(plot, "w", encoding="utf-8") as fh:
            fh.write(svg_chart(result))
    if picks.fastest is None:
        raise CloudError(f"{name} failed at every memory size tried ({', '.join(map(str, sizes))} MB)",
                         where=name, hint="invoke it once (lamctl invoke --logs) to see why, or try larger sizes")
    if out.json:
        data = result.as_dict()
        data["sizes"] = records
        if plot:
            data["plot"] = plot
        out.result(True, None, **data)
        return
    text = ["", *terminal_chart(result), "",
            f"fastest:  {picks.fastest} MB (lowest median duration)",
            f"cheapest: {picks.cheapest} MB (lowest cost per 1M invocations)",
            f"balance:  {picks.balance} MB (lowest cost/cheapest + duration/fastest)",
            f"prices: Lambda {PRICE_REGION} as of {PRICE_DATE} ({result.architecture}), requests included"]
    if plot:
        text.append(f"chart written to {plot}")
    out.result(True, "\n".join(text))
