"""``lamctl.release``: what changes the cloud.

Public entry points:

* :class:`lamctl.release.stacks.StackDeployer` over a :class:`~lamctl.release.stacks.StackGateway`: stack
  deploys through change sets (parameters and capabilities from :mod:`~lamctl.release.stack_params`);
* :class:`lamctl.release.engine.Engine`: versions, aliases and traffic shifting (plans of
  :mod:`~lamctl.release.plan`, strategies of :mod:`~lamctl.release.strategy`, hooks and alarms), with its
  journal (:mod:`~lamctl.release.journal`) and lock (:mod:`~lamctl.release.lock`); CodeDeploy's own
  deployments (:mod:`~lamctl.release.codedeploy`); a template's DeploymentPreferences
  (:mod:`~lamctl.release.preferences`);
* :class:`lamctl.release.tune.Experiment`: the memory experiment of ``lamctl tune`` (a version per size,
  REPORT lines read, figures and picks, everything put back);
* the typed gateways (:mod:`~lamctl.release.aws`) and their in-memory fakes for tests
  (:mod:`~lamctl.release.fakes`); time from :mod:`~lamctl.release.clock` (``Clock``, ``FakeClock``).

May import: :mod:`lamctl.packager`, :mod:`lamctl.transform` and :mod:`lamctl.schemas`; never local or cli.
Clients are handed in, never created here.
"""
