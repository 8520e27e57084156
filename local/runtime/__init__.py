"""``lamctl.local.runtime``: a template's functions run locally, each in a real environment.

Public entry points: :class:`lamctl.local.runtime.service.LocalLambda` (one ``invoke`` over a pool of
environments), :class:`lamctl.local.runtime.functions.TemplateFunctions` (a template's functions after
Globals, with parameters, ``--env-vars`` and built code), the Runtime API
(:mod:`~lamctl.local.runtime.runtime_api`), the Invoke API (:mod:`~lamctl.local.runtime.invoke_api`),
``start-api`` (:mod:`~lamctl.local.runtime.start_api`) and API Gateway's request and proxy-event rules
(:mod:`~lamctl.local.runtime.apigateway`), which the local cloud shares; each environment's CPU quota and
memory limit from its MemorySize (:mod:`~lamctl.local.runtime.limits`).

May import: :mod:`lamctl.packager` (to build what it runs), :mod:`lamctl.schemas` and the other layers below
local; never :mod:`lamctl.local.cloud` (the cloud runs on the runtime, not the other way) nor cli.
"""
