"""``lamctl.local``: the local cloud and the local Lambda runtime, to try an application without AWS.

* :mod:`lamctl.local.cloud`: the emulator process (moto's server, extended), ``lamctl local start|stop|status``;
* :mod:`lamctl.local.runtime`: functions of a template run in real local environments (``local invoke``,
  ``start-lambda``, ``start-api``), and what the local cloud runs its invocations on.

May import: :mod:`lamctl.release`, :mod:`lamctl.packager`, :mod:`lamctl.transform`, :mod:`lamctl.schemas`,
moto and botocore; never cli. Real servers with real time are allowed here (no injected clock).
"""
