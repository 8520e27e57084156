"""``lamctl transform [-t template.yaml] [-o FILE] [--region R] [--parameter-overrides K=V ...]``.

SAM shorthand to plain CloudFormation, offline: JSON on stdout, or into FILE
(YAML when its name ends in .yaml/.yml). A template without serverless
resources passes through unchanged; no ``Transform`` is left in the output.
With ``--output json`` the template is still what stdout carries when no FILE
is given (one JSON document, not NDJSON), so it can be piped.
"""

from __future__ import annotations

import os
from typing import List, Optional

import typer

from lamctl.cli.application import get_app


def transform_cmd(
    ctx: typer.Context,
    template: Optional[str] = typer.Option(None, "-t", "--template", help="Template (default: ./template.yaml)."),
    output_file: Optional[str] = typer.Option(None, "-o", "--output-file",
                                              help="Write here (YAML if it ends in .yaml/.yml) instead of stdout."),
    region: Optional[str] = typer.Option(None, "--region",
                                         help="Region the template is for (ARN partitions, AWS::Region)."),
    parameter_overrides: Optional[List[str]] = typer.Option(
        None, "--parameter-overrides",
        help="K=V, ParameterKey=K,ParameterValue=V or file://params.json|yaml; repeatable, space-separated."),
) -> None:
    """Turn a SAM template into plain CloudFormation (no AWS calls)."""
    import json

    from lamctl.transform import transform
    from lamctl.release.stack_params import parse_overrides
    from lamctl.schemas.errors import UsageError
    from lamctl.schemas.template import find_template, load_template

    app = get_app(ctx)
    path = find_template(app.setting("template", template))
    tpl = load_template(path)
    region = region or app.opts.region or os.environ.get("AWS_REGION") or \
        os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    params = {}
    for o in parse_overrides(parameter_overrides or [], base_dir=os.path.dirname(os.path.abspath(path))):
        params[o.key] = o.value
    declared = tpl.data.get("Parameters") if isinstance(tpl.data.get("Parameters"), dict) else {}
    unknown = sorted(k for k in params if k not in declared)
    if unknown:
        raise UsageError(f"--parameter-overrides names {', '.join(unknown)}, which the template does not declare",
                         where=path, hint="declared: " + (", ".join(declared) or "none"))
    result = transform(tpl.data, region=region, parameters=params, where=tpl.where)
    if output_file:
        if output_file.endswith((".yaml", ".yml")):
            import yaml

            class _NoAliases(yaml.SafeDumper):
                """CloudFormation refuses YAML anchors and aliases: repeat shared values instead."""

                def ignore_aliases(self, data):
                    return True

            text = yaml.dump(result, Dumper=_NoAliases, sort_keys=False, default_flow_style=False, width=120)
        else:
            text = json.dumps(result, indent=2) + "\n"
        folder = os.path.dirname(os.path.abspath(output_file))
        os.makedirs(folder, exist_ok=True)
        tmp = output_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, output_file)  # never a half-written file
        count = len(result.get("Resources") or {})
        if app.out.json:
            app.out.result(True, None, template=path, output_file=output_file, resources=count)
        else:
            app.out.info(f"wrote {output_file} ({count} resources)")
    else:
        import sys

        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        sys.stdout.flush()
