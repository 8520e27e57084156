"""``lamctl build [-t template.yaml] [--build-dir DIR] [--explain PATH]``: deterministic zips, limits checked."""

from __future__ import annotations

from typing import Optional

import typer


def build(
    ctx: typer.Context,
    template: Optional[str] = typer.Option(None, "-t", "--template",
                                           help="Template file (default: template.yaml, .yml, .json here)."),
    build_dir: Optional[str] = typer.Option(None, "--build-dir",
                                            help="Where the zips go (default: .lamctl/build beside the template)."),
    explain: Optional[str] = typer.Option(None, "--explain", metavar="PATH",
                                          help="Say which rule includes or excludes PATH, and build nothing."),
) -> None:
    """Build one reproducible zip per function and layer with local code; nothing is uploaded."""
    from lamctl.cli.application import get_app
    from lamctl.cli.render import markdown_table
    from lamctl.packager.build import build_template, explain_path
    from lamctl.packager.limits import LABELS, UNZIPPED, mb, size
    from lamctl.schemas.template import find_template, load_template

    app = get_app(ctx)
    out = app.out
    tpl = load_template(find_template(app.setting("template", template)))
    bdir = app.setting("build_dir", build_dir)

    if explain is not None:
        rows = explain_path(tpl, explain, bdir)
        if not rows:
            out.table(["path", "verdict"], [[explain, "not inside any code folder of the template"]],
                      type_="explain", records=[{"path": explain, "included": False, "resource": None,
                                                 "reason": "not inside any code folder of the template"}])
            out.result(ok=True, included=False)
            return
        out.table(["artifact", "path", "verdict", "why"],
                  [[r.resource, r.path or ".", "included" if r.included else "excluded", r.reason] for r in rows],
                  type_="explain",
                  records=[{"resource": r.resource, "code_folder": r.code_folder, "path": r.path,
                            "included": r.included, "reason": r.reason, "rule": r.rule} for r in rows])
        out.result(ok=True, included=any(r.included for r in rows))
        return

    result = build_template(tpl, bdir, notify=out.info)
    for w in result.warnings:
        out.warn(w)
    limits_seen: list[str] = []
    for heads in result.headroom.values():
        for h in heads:
            if h.limit not in limits_seen:
                limits_seen.append(h.limit)
    rows, records = [], []
    for a in result.artifacts:
        heads = {h.limit: h for h in result.headroom.get(a.resource, [])}
        rows.append([a.resource, a.kind, a.files, size(a.unzipped_bytes), size(a.zipped_bytes),
                     a.sha256[:12] if out.interactive else a.sha256]
                    + [_left(heads[lim], mb) if lim in heads else "-" for lim in limits_seen]
                    + ["reused" if a.reused else "built"])
        records.append({"resource": a.resource, "kind": a.kind, "resource_type": a.resource_type,
                        "files": a.files, "unzipped_bytes": a.unzipped_bytes, "zipped_bytes": a.zipped_bytes,
                        "sha256": a.sha256, "code_sha256": a.code_sha256, "zip_path": a.zip_path,
                        "source": a.source, "runtime": a.runtime, "architecture": a.architecture,
                        "layers": list(a.layers), "reused": a.reused,
                        "headroom": {h.limit: {"used": h.used, "limit": h.maximum, "left": h.left}
                                     for h in heads.values()}})
    if result.artifacts:
        # on a narrow terminal the least useful columns go first (--output json always has them all)
        out.table(["artifact", "kind", "files", "unzipped", "zipped", "sha256"]
                  + [LABELS.get(lim, lim) for lim in limits_seen] + ["state"], rows,
                  type_="artifact", records=records,
                  drop=["files", "kind"] + [LABELS.get(lim, lim) for lim in limits_seen] + ["state", "sha256"])
    if result.artifacts:
        out.summary("### lamctl build\n\n" + markdown_table(
            ["artifact", "kind", "files", "unzipped", "zipped", "sha256", LABELS[UNZIPPED], "state"],
            [[a.resource, a.kind, a.files, size(a.unzipped_bytes), size(a.zipped_bytes),
              f"`{a.sha256[:16]}`",
              next((mb(h.left) for h in result.headroom.get(a.resource, []) if h.limit == UNZIPPED), "-"),
              "reused" if a.reused else "built"] for a in result.artifacts]))
    built = sum(1 for a in result.artifacts if not a.reused)
    human = (f"{len(result.artifacts)} artifact(s) in {result.build_dir}: {built} built, "
             f"{len(result.artifacts) - built} unchanged")
    if not result.artifacts:
        human = "nothing to build: no function or layer with local code"
    out.info(human)
    out.result(ok=True, artifacts=len(result.artifacts), built=built, build_dir=result.build_dir)


def _left(h, mb) -> str:
    from lamctl.packager.limits import DIRECT, UNZIPPED

    if h.limit in (UNZIPPED, DIRECT):
        return mb(h.left)
    return f"{h.left:,}"
