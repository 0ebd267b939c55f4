"""Transient S3 errors (503 SlowDown, 500 InternalError) are retried by the runtime."""

from __future__ import annotations

from .faulty_proxy import FaultyProxy


def test_s3_throttling_and_5xx_are_retried(s3_backend, client_root):
    bucket = s3_backend.datastore[len("s3://"):].split("/")[0]
    import os

    with FaultyProxy(os.environ["AWS_ENDPOINT_URL"], bucket, every=2) as proxy:
        driver = s3_backend.driver("linear_flow.py", AWS_ENDPOINT_URL=proxy.endpoint)
        run_id = driver.run_flow(params={"count": 2})
    kinds = {(code, method) for code, method, _ in proxy.injected}
    assert (503, "PUT") in kinds and (503, "GET") in kinds and (500, "GET") in kinds
    assert len(proxy.injected) >= 8
    client = client_root(s3_backend)
    assert client.Run(f"LinearFlow/{run_id}").data.final == (0.5, 2)
