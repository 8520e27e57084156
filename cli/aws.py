"""The one place that creates boto3 sessions and clients.

Region: ``--region`` > ``AWS_REGION`` > ``AWS_DEFAULT_REGION`` > the profile's.
Endpoint: ``--endpoint-url`` for every service; otherwise botocore's own
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` apply. Retries: the
``standard`` mode unless ``AWS_RETRY_MODE`` says otherwise. The user agent
names lamctl and its version. Everything below ``cli`` receives clients.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from lamctl.schemas.errors import CloudError, CredentialsError

LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOCAL_REGION = "us-east-1"


@functools.cache
def lamctl_version() -> str:
    """lamctl's version (every client's user agent names it). A constant of the package, not
    ``importlib.metadata``: scanning the installed distributions costs ~30 ms per command."""
    from lamctl.cli import __version__

    return __version__


def url_parts(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an endpoint URL, lower-cased, with the scheme's default port."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else "http://" + url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def is_loopback(url: str | None) -> bool:
    """An endpoint on this machine (where the local cloud listens)."""
    if not url:
        return False
    host = url_parts(url)[1]
    return host == "localhost" or host == "::1" or host.startswith("127.")


class ClientFactory:
    def __init__(self, profile: str | None = None, region: str | None = None, endpoint_url: str | None = None,
                 local: bool = False):
        self.profile = profile
        self._region = region
        self.endpoint_url = endpoint_url
        self.local = local
        # The local cloud, or another endpoint on this machine (start-lambda, an emulator): dummy credentials
        # and a default region, as --local gets; no real secret is sent to it.
        self.dummy = local or is_loopback(endpoint_url)
        self._session = None
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        region = self._region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region and self.dummy:
            region = LOCAL_REGION
        if not region:
            region = self.session().region_name
        if not region:
            raise CredentialsError(
                "no AWS region is set",
                hint="pass --region, set AWS_REGION, or set region in lamctl.toml or your AWS profile",
            )
        return region

    def session(self):
        if self._session is None:
            import boto3
            import botocore.exceptions

            kwargs: dict[str, Any] = {}
            if self.profile and not self.dummy:
                kwargs["profile_name"] = self.profile
            if self.dummy:
                kwargs.update(LOCAL_CREDENTIALS)
            try:
                self._session = boto3.Session(**kwargs)
            except botocore.exceptions.ProfileNotFound:
                raise CredentialsError(f"the AWS profile {self.profile!r} does not exist",
                                       hint="check --profile / AWS_PROFILE against ~/.aws/config") from None
        return self._session

    def check_credentials(self) -> None:
        import botocore.exceptions

        try:
            creds = self.session().get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            raise CredentialsError(f"cannot load AWS credentials: {exc}") from None
        if creds is None:
            raise CredentialsError(
                "no AWS credentials found",
                hint="run 'aws configure' or 'aws sso login', set AWS_PROFILE, or use --local for the local cloud",
            )

    def client(self, service: str, *, read_timeout: float | None = None, max_attempts: int | None = None):
        """A client for ``service``, made once per set of options.

        ``read_timeout`` and ``max_attempts`` are for calls that may legitimately
        run long and must not be repeated, such as a synchronous invoke of a hook
        (botocore's defaults, 60 s and retries, would invoke it again)."""
        key = (service, read_timeout, max_attempts)
        if key in self._clients:
            return self._clients[key]
        from botocore.config import Config

        self.check_credentials()
        config_kwargs: dict[str, Any] = {"user_agent_extra": f"lamctl/{lamctl_version()}"}
        if max_attempts is not None:
            config_kwargs["retries"] = {"mode": os.environ.get("AWS_RETRY_MODE") or "standard",
                                        "total_max_attempts": max_attempts}
        elif not os.environ.get("AWS_RETRY_MODE"):
            config_kwargs["retries"] = {"mode": "standard", "max_attempts": 5}
        if read_timeout is not None:
            config_kwargs["read_timeout"] = read_timeout
        if service == "s3" and (self.endpoint_url or self.local):
            config_kwargs["s3"] = {"addressing_style": "path"}
        if self.endpoint_url and self.dummy:
            # a host prefix (Step Functions' "sync-" for StartSyncExecution) before a loopback address breaks it
            config_kwargs["inject_host_prefix"] = False
        kwargs: dict[str, Any] = {"region_name": self.region, "config": Config(**config_kwargs)}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        try:
            client = self.session().client(service, **kwargs)
        except Exception as exc:  # botocore raises a few unrelated types here (bad endpoint, unknown service)
            raise CloudError(f"cannot create the {service} client: {exc}") from None
        self._clients[key] = client
        return client
