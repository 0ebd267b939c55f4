"""boto3 clients for the CLI, with AWS failures turned into one-line UserErrors."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..diagnostics import UserError


@dataclass
class Clients:
    region: str | None = None
    endpoint_url: str | None = None
    _made: dict[str, Any] = field(default_factory=dict)
    _session: Any = None  # one for all clients: each new session loads the service models again

    @classmethod
    def from_config(cls, config: Config) -> "Clients":
        return cls(region=config.get("region"), endpoint_url=config.get("endpoint_url"))

    def __call__(self, service: str):
        if service not in self._made:
            import boto3
            from botocore.config import Config as BotoConfig

            # Few retries: an unreachable endpoint should be one quick clear line, not a minute of backoff.
            kwargs: dict[str, Any] = {"config": BotoConfig(retries={"mode": "standard", "max_attempts": 2},
                                                           connect_timeout=5, read_timeout=60)}
            if self.region:
                kwargs["region_name"] = self.region
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            with aws_errors():
                if self._session is None:
                    self._session = boto3.session.Session()
                self._made[service] = self._session.client(service, **kwargs)
        return self._made[service]


@contextlib.contextmanager
def aws_errors(what: str = ""):
    """Turn botocore's failures into one line naming what to fix."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    prefix = f"{what}: " if what else ""
    try:
        yield
    except bx.EndpointConnectionError as exc:
        raise UserError(f"{prefix}cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url', '')} "
                        "(check endpoint_url / AWS_ENDPOINT_URL, region and network)") from None
    except bx.NoRegionError:
        raise UserError(f"{prefix}missing setting 'region' (AWS region): pass --region, set SFNCOMPILE_REGION "
                        "or AWS_REGION, or add 'region = ...' under [tool.sfncompile] in pyproject.toml") from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise UserError(f"{prefix}no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                        "AWS_SECRET_ACCESS_KEY)") from None
    except bx.ClientError as exc:
        err = exc.response.get("Error", {})
        raise UserError(f"{prefix}AWS {exc.operation_name} failed: {err.get('Code', '?')}: "
                        f"{err.get('Message', '')}") from None
    except (bx.ConnectTimeoutError, bx.ReadTimeoutError, bx.ConnectionClosedError) as exc:
        raise UserError(f"{prefix}AWS endpoint did not answer in time: {exc}") from None
    except ResponseParserError as exc:  # an HTTP 5xx with a body that is no AWS error (a proxy, an outage)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{prefix}AWS answered with an unreadable error ({first[:200]}); the service or a proxy "
                        "in between failed: try again, and check the endpoint if it persists") from None
    except bx.BotoCoreError as exc:
        raise UserError(f"{prefix}AWS call failed: {exc}") from None


def error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")
