"""No false alarms: on the reference transform's own test templates (../shared/conformance, when present),
validate reports an error only where CloudFormation itself would refuse the template."""

from __future__ import annotations

import pathlib

import pytest

from lamctl.packager.validate import validate_template
from lamctl.schemas.template import load_template

CORPUS = pathlib.Path(__file__).resolve().parents[3] / "shared" / "conformance" / "sam-translator" / "input"

# Templates the reference transforms although CloudFormation would refuse them, and why.
INVALID_FOR_CLOUDFORMATION = {
    "basic_function_withimageuri.yaml": "ImageConfig.Command/EntryPoint given as strings, not lists",
    "function_with_event_dest_basic.yaml": "Fn::If on SomeCondition, which Conditions does not declare",
    "function_with_recursive_loop.yaml": "RecursiveLoop TERMINATE (CloudFormation takes Allow or Terminate)",
    "function_with_tracing.yaml": "Tracing 'Hi' and '123'",
    "globals_for_function.yaml": "RecursiveLoop ALLOW, UpdateRuntimeOn FunctionChange",
    "intrinsic_functions.yaml": "Fn::Ref is not an intrinsic function",
    "resource_with_invalid_type.yaml": "a resource Type given as a mapping",
}
# ... and templates that refer to resources or parameters they do not declare (!Ref Stage, ${DifferentFunction.Arn}).
DANGLING_REFERENCES = {
    "api_http_with_default_iam_authorizer.yaml", "api_with_any_method_in_swagger.yaml", "api_with_custom_base_path.yaml",
    "congito_userpool_with_sms_configuration.yaml", "http_api_existing_openapi.yaml",
    "http_api_existing_openapi_conditions.yaml", "layers_with_intrinsics.yaml",
}


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no reference corpus at {CORPUS}")
def test_validate_flags_only_templates_cloudformation_would_refuse():
    flagged = {}
    for path in sorted(CORPUS.glob("*.yaml")):
        errors = [f for f in validate_template(load_template(str(path))) if f.severity == "error"]
        if errors:
            flagged[path.name] = errors
    assert len(list(CORPUS.glob("*.yaml"))) > 300
    unexpected = {name: [str(e) for e in errs] for name, errs in flagged.items()
                  if name not in INVALID_FOR_CLOUDFORMATION and name not in DANGLING_REFERENCES}
    assert unexpected == {}
    assert set(flagged) == set(INVALID_FOR_CLOUDFORMATION) | DANGLING_REFERENCES  # each one still caught
    for name in DANGLING_REFERENCES:
        assert all(f.code == "reference" for f in flagged[name]), [str(f) for f in flagged[name]]
