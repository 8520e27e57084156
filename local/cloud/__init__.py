"""``lamctl.local.cloud``: the local cloud, moto's AWS emulator with lamctl's extensions.

Public entry points: :mod:`~lamctl.local.cloud.lifecycle` (``start``, ``stop``, ``status``, ``ensure_running``,
``ensure_bucket``: the background process ``lamctl local`` manages),
:class:`lamctl.local.cloud.emulator.EmulatorServer` (the same server in a thread, for tests and embedding),
and :mod:`~lamctl.local.cloud.urls` (``status_url``, ``hook_status_url``, ``api_url``: the addresses it
answers besides AWS's APIs). :mod:`~lamctl.local.cloud.models` is the one module that extends moto's models;
:mod:`~lamctl.local.cloud.apis` answers deployed REST and HTTP APIs.

May import: :mod:`lamctl.local.runtime`, the layers below local, moto and botocore; never cli.
"""
