"""``lamctl.schemas``: the lowest layer, what every other layer reads templates and reports errors with.

Public entry points:

* :mod:`~lamctl.schemas.errors`: the error tree (``LamctlError`` and its exit codes), ``location`` for
  ``file:line:col``, and ``error_code`` / ``error_message`` / ``http_status`` to read AWS's answers;
* :mod:`~lamctl.schemas.template`: ``load_template`` / ``find_template`` -> ``Template`` (data with positions);
* :mod:`~lamctl.schemas.sam`: the SAM rules every layer shares (``TRANSFORM``, ``is_serverless``,
  ``is_intrinsic``, ``Globals`` / ``merge_globals``, ``code_location``);
* :mod:`~lamctl.schemas.validate`: JSON Schema findings located in the source (``schema_findings``);
* :mod:`~lamctl.schemas.appspec` and :mod:`~lamctl.schemas.config`: the AppSpec and ``lamctl.toml``;
* the JSON Schemas themselves (``*.schema.json``).

May import: the standard library, PyYAML and jsonschema, and nothing else of lamctl.
"""
