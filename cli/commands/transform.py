"""``lamctl transform [-t template.yaml] [-o FILE] [--region R] [--parameter-overrides K=V ...]``.

SAM shorthand to plain CloudFormation, offline: JSON on stdout, or into FILE
(YAML when its name ends in .yaml/.yml). A template without serverless
resources passes through unchanged; no ``Transform`` is left in the output.
A source template (local ``CodeUri: src/``) is transformed with placeholder S3
code locations, said once on stderr (``lamctl package`` writes the real ones).
With ``--output json`` stdout is NDJSON like every command's: a ``warning``
for the placeholders, then one ``result`` whose ``template`` holds the
CloudFormation template (or names FILE).
"""

from __future__ import annotations

import os
from typing import List, Optional

import typer

from lamctl.cli.application import get_app

# Where a source template's local code is said to be (lamctl package puts the real S3 locations).
PLACEHOLDER_BUCKET = "lamctl-placeholder"


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

    from lamctl.packager.validate import placeholder_code
    from lamctl.release.stack_params import check_parameter_names, parse_overrides
    from lamctl.schemas.template import find_template, load_template
    from lamctl.transform import transform

    app = get_app(ctx)
    path = find_template(app.setting("template", template))
    tpl = load_template(path)
    region = region or app.opts.region or os.environ.get("AWS_REGION") or \
        os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    overrides = parse_overrides(parameter_overrides or [], base_dir=os.path.dirname(os.path.abspath(path)))
    check_parameter_names(tpl.data, overrides, tpl.where)
    params = {o.key: o.value for o in overrides}
    data, placeholders = placeholder_code(tpl.data, PLACEHOLDER_BUCKET)
    if placeholders:
        app.out.warn(f"{', '.join(placeholders)}: local code, given the placeholder location "
                     f"s3://{PLACEHOLDER_BUCKET}/...; run lamctl package for the real S3 locations",
                     placeholders=placeholders)
    from lamctl.packager.sar import PlaceholderApplications

    applications = PlaceholderApplications()
    result = transform(data, region=region, parameters=params, where=tpl.where, applications=applications)
    if applications.seen:
        app.out.warn(f"{', '.join(applications.seen)}: a Serverless Application Repository application, given the "
                     f"placeholder template URL {PlaceholderApplications.BASE}/...; lamctl deploy asks the repository "
                     "for the real one", applications=applications.seen)
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
            app.out.result(True, None, template_file=path, output_file=output_file, resources=count,
                           placeholders=placeholders)
        else:
            app.out.info(f"wrote {output_file} ({count} resources)")
    elif app.out.json:
        app.out.result(True, None, template_file=path, resources=len(result.get("Resources") or {}),
                       placeholders=placeholders, template=result)
    else:
        import sys

        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        sys.stdout.flush()
