"""Client tests reuse the runner's flows and backends."""

from tests.runtime.conftest import backend, client_root, local_backend, s3_backend  # noqa: F401
