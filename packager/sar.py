"""The Serverless Application Repository (SAR): an ``AWS::Serverless::Application`` whose ``Location`` is
``{ApplicationId, SemanticVersion}`` becomes a nested stack of the template SAR prepares for it.

:class:`ApplicationRepository` is the lookup :func:`lamctl.transform.transform` takes as ``applications``:
as the reference transform does on AWS, it calls ``CreateCloudFormationTemplate`` (which copies the
application's template and artifacts into the caller's region and answers a pre-signed S3 URL), then
``GetCloudFormationTemplate`` until the template is ``ACTIVE`` (every 2 s, 105 s at most, on the injected
clock; ``TooManyRequestsException`` waits and tries again). An application the caller may not read, or
that does not exist, is a :class:`TemplateError` (exit 2); an ``EXPIRED`` template or the time running out
is one too. The local cloud has no SAR: lamctl refuses such a Location there (see
:data:`NO_SAR_ON_THE_LOCAL_CLOUD`), since its template and code live only on AWS.
"""

from __future__ import annotations

from typing import Any

from lamctl.schemas.errors import CloudError, TemplateError, error_code, error_message

SLEEP_SECONDS = 2.0
WAIT_SECONDS = 105.0  # the reference's limit: CloudFormation gives a transform 2 minutes

NO_SAR_ON_THE_LOCAL_CLOUD = ("the local cloud has no Serverless Application Repository",
                             "give Location a template URL, or a local template file (lamctl packages and "
                             "deploys it as a nested stack), or deploy to AWS")


class LocalCloudApplications:
    """The lookup on the local cloud: every SAR application is a located error (exit 2) saying so."""

    def __call__(self, logical_id: str, application_id: str, semantic_version: str) -> str:
        message, hint = NO_SAR_ON_THE_LOCAL_CLOUD
        raise TemplateError(f"application {logical_id}: Location names {application_id} {semantic_version} of the "
                            f"Serverless Application Repository, and {message}", hint=hint)


class PlaceholderApplications:
    """The offline lookup (``lamctl transform``, ``lamctl validate``): every application gets a placeholder
    template URL, ``https://lamctl-placeholder.s3.amazonaws.com/serverlessrepo/<application>/<version>``,
    as local code gets placeholder S3 locations; ``seen`` lists the logical IDs, for the warning."""

    BASE = "https://lamctl-placeholder.s3.amazonaws.com/serverlessrepo"

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, logical_id: str, application_id: str, semantic_version: str) -> str:
        self.seen.append(logical_id)
        return f"{self.BASE}/{application_id.rsplit('/', 1)[-1]}/{semantic_version}"


class ApplicationRepository:
    """``applications(logical_id, application_id, semantic_version) -> template URL`` over a
    ``serverlessrepo`` client, waiting on ``clock`` for the template to be ready."""

    def __init__(self, client: Any, clock: Any, wait: bool = True):
        self.client = client
        self.clock = clock
        self.wait = wait
        self.calls = 0

    def __call__(self, logical_id: str, application_id: str, semantic_version: str) -> str:
        start = self.clock.now()
        response = self._call(logical_id, start, self.client.create_cloud_formation_template,
                              ApplicationId=application_id, SemanticVersion=semantic_version)
        url, status = response.get("TemplateUrl"), response.get("Status")
        template_id = response.get("TemplateId")
        while self.wait and status != "ACTIVE":
            if status == "EXPIRED":
                raise TemplateError(f"application {logical_id}: the template the Serverless Application Repository "
                                    f"prepared for {application_id} {semantic_version} has expired",
                                    hint="run the deploy again to have a new one prepared")
            if self.clock.now() - start >= WAIT_SECONDS:
                raise TemplateError(f"application {logical_id}: the Serverless Application Repository did not "
                                    f"finish preparing {application_id} {semantic_version} within "
                                    f"{WAIT_SECONDS:.0f} s (status {status})", hint="run the deploy again later")
            self.clock.sleep(SLEEP_SECONDS)
            status = self._call(logical_id, start, self.client.get_cloud_formation_template,
                                ApplicationId=application_id, TemplateId=template_id).get("Status")
        if not isinstance(url, str) or not url:
            raise CloudError(f"application {logical_id}: the Serverless Application Repository answered no "
                             f"template URL for {application_id} {semantic_version}")
        return url

    def _call(self, logical_id: str, start: float, method: Any, **kwargs: Any) -> dict:
        while True:
            self.calls += 1
            try:
                return method(**kwargs)
            except Exception as exc:  # botocore ClientError and connection errors
                code = error_code(exc)
                if code == "TooManyRequestsException" and self.clock.now() - start < WAIT_SECONDS:
                    self.clock.sleep(SLEEP_SECONDS)
                    continue
                what = f"{kwargs.get('ApplicationId')} {kwargs.get('SemanticVersion', '')}".strip()
                if code in ("AccessDeniedException", "NotFoundException", "ForbiddenException",
                            "BadRequestException"):
                    raise TemplateError(f"application {logical_id}: the Serverless Application Repository refused "
                                        f"{what}: {error_message(exc) or code}",
                                        hint="check the ApplicationId ARN and SemanticVersion, and that the "
                                             "application is shared with your account") from None
                raise CloudError(f"application {logical_id}: cannot look up {what} in the Serverless Application "
                                 f"Repository: {error_message(exc) or exc}",
                                 hint="check your network and credentials, then run again") from None
