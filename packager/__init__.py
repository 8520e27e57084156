"""``lamctl.packager``: what happens before the cloud, from a source folder to artifacts in S3.

Public entry points:

* :func:`lamctl.packager.build.build_template` -> ``BuildResult`` of :class:`~lamctl.packager.artifacts.Artifact`:
  dependencies (:mod:`~lamctl.packager.deps`), toolchain builds (:mod:`~lamctl.packager.builders`: Go and
  makefile), file selection (:mod:`~lamctl.packager.files`), the incremental
  cache (:mod:`~lamctl.packager.cache`), deterministic zips (:mod:`~lamctl.packager.archive`) and the Lambda
  quotas (:mod:`~lamctl.packager.limits`);
* :func:`lamctl.packager.package.package`: upload what S3 lacks (:mod:`~lamctl.packager.upload`) and rewrite
  the template's code locations;
* :func:`lamctl.packager.validate.validate_template`: schema, semantic and limit findings, and cfn-lint's on the
  transformed template.
* :func:`lamctl.packager.scaffold.render_project` / :func:`~lamctl.packager.scaffold.write_project`: a new project
  from the jinja2 templates in ``project_templates/`` (``lamctl init``).

May import: :mod:`lamctl.transform` and :mod:`lamctl.schemas`; never release, local or cli. S3 clients are
handed in, never created here.
"""
