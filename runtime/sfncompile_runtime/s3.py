"""``S3``: Metaflow's S3 helper on boto3 (``from metaflow import S3``).

The same shape as Metaflow's: ``with S3(run=self) as s3: s3.put("k", "v");
s3.get("k").text``, or ``S3(s3root="s3://bucket/prefix")`` / ``S3(bucket=,
prefix=)``; with no root, keys must be full ``s3://`` URLs. Objects are
downloaded to a temporary directory removed when the ``S3`` object closes.

``S3(run=...)`` stores under the flow's datastore when that is on S3
(``<root>/<Flow>/datatools/<run_id>``), else under
``METAFLOW_DATATOOLS_S3ROOT`` (Metaflow's setting).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from urllib.parse import urlparse

from . import envnames
from .exceptions import MetaflowException


class MetaflowS3Exception(MetaflowException):
    headline = "S3 access failed"


class MetaflowS3NotFound(MetaflowException):
    headline = "S3 object not found"


class MetaflowS3URLException(MetaflowException):
    headline = "Invalid address"


class S3Object:
    """One object: ``url``, ``key``, ``exists``, and once downloaded ``path``/``blob``/``text``."""

    def __init__(self, prefix: str | None, url: str, path: str | None, size: int | None = None,
                 content_type: str | None = None, metadata: dict | None = None, last_modified=None,
                 exists: bool = True, has_info: bool = False):
        self._prefix = prefix
        self._url = url
        self._path = path
        self._size = size
        self._content_type = content_type
        self._metadata = metadata
        self._last_modified = last_modified
        self._exists = exists
        self._has_info = has_info

    @property
    def exists(self) -> bool:
        return self._exists

    @property
    def downloaded(self) -> bool:
        return self._path is not None

    @property
    def url(self) -> str:
        return self._url

    @property
    def prefix(self) -> str | None:
        return self._prefix

    @property
    def key(self) -> str:
        if self._prefix and self._url.startswith(self._prefix):
            return self._url[len(self._prefix):].lstrip("/")
        return self._url

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def blob(self) -> bytes | None:
        if self._path is None:
            return None
        with open(self._path, "rb") as src:
            return src.read()

    @property
    def text(self) -> str | None:
        blob = self.blob
        return None if blob is None else blob.decode("utf-8")

    @property
    def size(self) -> int | None:
        if self._size is None and self._path is not None:
            return os.path.getsize(self._path)
        return self._size

    @property
    def has_info(self) -> bool:
        return self._has_info

    @property
    def metadata(self) -> dict | None:
        return self._metadata

    @property
    def content_type(self) -> str | None:
        return self._content_type

    @property
    def last_modified(self):
        return self._last_modified

    def __str__(self):
        return f"<S3Object {self._url} ({self.size if self._exists else 'missing'})>"

    __repr__ = __str__


def _split_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise MetaflowS3URLException(f"{url!r} is not an s3:// URL")
    return parsed.netloc, parsed.path.lstrip("/")


def _run_root(run) -> str:
    flow_name = getattr(run, "flow_name", None) or getattr(type(run), "__name__", None)
    run_id = getattr(run, "run_id", None) or getattr(run, "id", None)
    if getattr(run, "_sfn_task", None) is not None or run.__dict__.get("_sfn_task") is not None:
        from .current import current

        flow_name, run_id = current.flow_name, current.run_id
    root = os.environ.get(envnames.DATASTORE, "")
    if root.startswith("s3://"):
        return f"{root.rstrip('/')}/{flow_name}/datatools/{run_id}"
    tools = os.environ.get("METAFLOW_DATATOOLS_S3ROOT")
    if tools:
        return f"{tools.rstrip('/')}/{flow_name}/{run_id}"
    raise MetaflowS3Exception("S3(run=...) needs an S3 location: run with an s3:// datastore or set "
                              "METAFLOW_DATATOOLS_S3ROOT=s3://bucket/prefix")


class S3:
    """Metaflow's S3 client: ``get``/``put`` and their ``_many``/``_files`` forms, ``list_paths``, ``info``."""

    def __init__(self, tmproot: str = tempfile.gettempdir(), bucket: str | None = None, prefix: str | None = None,
                 run=None, s3root: str | None = None, **kwargs):
        if run is not None:
            self._root = _run_root(run)
        elif bucket is not None:
            self._root = f"s3://{bucket}/{(prefix or '').strip('/')}".rstrip("/")
        elif s3root is not None:
            _split_url(s3root)
            self._root = s3root.rstrip("/")
        else:
            self._root = None
        self._tmpdir = tempfile.mkdtemp(dir=tmproot, prefix="sfncompile.s3.")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._tmpdir and os.path.isdir(self._tmpdir):
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None

    @property
    def _client(self):
        from .aws import client

        return client("s3")

    def _url(self, key) -> str:
        key = getattr(key, "key", key)
        if key is None or key == "":
            if self._root is None:
                raise MetaflowS3URLException("no key given and this S3 object has no root")
            return self._root
        if isinstance(key, str) and key.startswith("s3://"):
            if self._root is not None and not key.startswith(self._root):
                raise MetaflowS3URLException(f"{key} is outside this S3 object's root {self._root}")
            return key
        if self._root is None:
            raise MetaflowS3URLException(f"{key!r} is not a full s3:// URL and this S3 object has no root "
                                         "(give run=, s3root= or bucket=)")
        return f"{self._root}/{str(key).lstrip('/')}"

    # -- reading -----------------------------------------------------------
    def _head(self, url: str):
        from botocore.exceptions import ClientError

        bucket, key = _split_url(url)
        try:
            return self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise MetaflowS3Exception(f"cannot read {url}: {exc}") from None

    def info(self, key=None, return_missing: bool = False) -> S3Object:
        url = self._url(key)
        head = self._head(url)
        if head is None:
            if return_missing:
                return S3Object(self._root, url, None, exists=False)
            raise MetaflowS3NotFound(f"{url} does not exist")
        return S3Object(self._root, url, None, size=head.get("ContentLength"), content_type=head.get("ContentType"),
                        metadata=head.get("Metadata") or {}, last_modified=head.get("LastModified"), has_info=True)

    def info_many(self, keys, return_missing: bool = False) -> list[S3Object]:
        return [self.info(k, return_missing) for k in keys]

    def get(self, key=None, return_missing: bool = False, return_info: bool = True) -> S3Object:
        from botocore.exceptions import ClientError

        url = self._url(key)
        bucket, s3key = _split_url(url)
        handle, path = tempfile.mkstemp(dir=self._tmpdir)
        os.close(handle)
        try:
            response = self._client.get_object(Bucket=bucket, Key=s3key)
            with open(path, "wb") as out:
                shutil.copyfileobj(response["Body"], out)
        except ClientError as exc:
            os.remove(path)
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                if return_missing:
                    return S3Object(self._root, url, None, exists=False)
                raise MetaflowS3NotFound(f"{url} does not exist") from None
            raise MetaflowS3Exception(f"cannot read {url}: {exc}") from None
        return S3Object(self._root, url, path, size=response.get("ContentLength"),
                        content_type=response.get("ContentType"), metadata=response.get("Metadata") or {},
                        last_modified=response.get("LastModified"), has_info=return_info)

    def get_many(self, keys, return_missing: bool = False, return_info: bool = True) -> list[S3Object]:
        return [self.get(k, return_missing, return_info) for k in keys]

    def _list(self, url: str, recursive: bool):
        bucket, prefix = _split_url(url)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        paginator = self._client.get_paginator("list_objects_v2")
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if not recursive:
            kwargs["Delimiter"] = "/"
        for page in paginator.paginate(**kwargs):
            for entry in page.get("CommonPrefixes", []):
                yield f"s3://{bucket}/{entry['Prefix']}".rstrip("/"), False, None
            for entry in page.get("Contents", []):
                yield f"s3://{bucket}/{entry['Key']}", True, entry.get("Size")

    def list_paths(self, keys=None) -> list[S3Object]:
        """The objects and prefixes directly below each key (or the root)."""
        out = []
        for key in keys or [None]:
            for url, is_object, size in self._list(self._url(key), recursive=False):
                out.append(S3Object(self._root, url, None, size=size, exists=is_object))
        return out

    def list_recursive(self, keys=None) -> list[S3Object]:
        out = []
        for key in keys or [None]:
            for url, _, size in self._list(self._url(key), recursive=True):
                out.append(S3Object(self._root, url, None, size=size))
        return out

    def get_recursive(self, keys, return_info: bool = False) -> list[S3Object]:
        return [self.get(obj.url, return_info=return_info) for obj in self.list_recursive(keys)]

    def get_all(self, return_info: bool = False) -> list[S3Object]:
        if self._root is None:
            raise MetaflowS3URLException("get_all() needs a root (give run=, s3root= or bucket=)")
        return self.get_recursive([None], return_info)

    # -- writing -----------------------------------------------------------
    def put(self, key, obj, overwrite: bool = True, content_type: str | None = None,
            metadata: dict | None = None) -> str:
        url = self._url(key)
        if not overwrite and self._head(url) is not None:
            return url
        if isinstance(obj, str):
            body = obj.encode("utf-8")
        elif isinstance(obj, (bytes, bytearray)):
            body = bytes(obj)
        elif hasattr(obj, "read"):
            body = obj.read()
        else:
            raise MetaflowS3Exception(f"S3.put: cannot store a {type(obj).__name__}; give str, bytes or a file object")
        bucket, s3key = _split_url(url)
        extra = {}
        if content_type:
            extra["ContentType"] = content_type
        if metadata:
            extra["Metadata"] = {str(k): str(v) for k, v in metadata.items()}
        self._client.put_object(Bucket=bucket, Key=s3key, Body=body, **extra)
        return url

    def put_many(self, key_objs, overwrite: bool = True) -> list[tuple[str, str]]:
        out = []
        for item in key_objs:
            key, obj = (item.key, item.value) if hasattr(item, "value") else item
            out.append((key, self.put(key, obj, overwrite)))
        return out

    def put_files(self, key_paths, overwrite: bool = True) -> list[tuple[str, str]]:
        out = []
        for item in key_paths:
            key, path = (item.key, item.path) if hasattr(item, "path") else item
            with open(path, "rb") as src:
                out.append((key, self.put(key, src, overwrite)))
        return out
