"""lamctl's command line: the composition root, and the only layer that talks to the user.

Entry point: :func:`lamctl.cli.app.main` (the ``lamctl`` script, ``python -m lamctl.cli``). The commands are
module-level functions in :mod:`lamctl.cli.commands`, one module per command, registered by the table in
:mod:`lamctl.cli.app` (``COMMANDS``, ``GROUPS``). What commands share: :mod:`lamctl.cli.application` (the
``App`` each command gets: settings, output, clients), :mod:`lamctl.cli.wiring` (gateways and services built
from the App), :mod:`lamctl.cli.views` (live views of releases, stacks and uploads), :mod:`lamctl.cli.render`
(tables, NDJSON, job summaries), :mod:`lamctl.cli.settings` (flags > ``LAMCTL_*`` > ``lamctl.toml``), and
:mod:`lamctl.cli.aws` (``ClientFactory``, the one place that creates boto3 sessions and clients).

May import every layer below it (local, release, packager, transform, schemas); it is the only layer that
imports typer or rich, or creates boto3 clients (tests/unit/test_layout.py). Command modules import no other
command module.
"""

# the release's version; tests/unit/test_startup.py keeps it equal to pyproject.toml's
__version__ = "0.1.0"
