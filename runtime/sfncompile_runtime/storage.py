"""Byte storage under a datastore root: a local directory or ``s3://bucket/prefix``.

Keys are ``/``-separated paths below the root. Every write is atomic for a
reader: locally a temporary file in the same directory and one ``os.replace``;
on S3 a PUT (or a multipart upload) only becomes visible once complete.
Large objects move through boto3's transfer manager (multipart, parallel
parts); small ones through a single request.
"""

from __future__ import annotations

import errno
import os
import stat

MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
MAX_CONCURRENCY = 10


class UnreadableEntry(OSError):
    """Something other than a readable regular file where the datastore keeps one (a symlink, a
    directory, a file we may not read). An OSError, so that readers that skip a bad record skip it."""

    def __str__(self) -> str:  # the message names the path already; no "[Errno 40]" in front
        return str(self.strerror)


# The datastore only ever writes regular files (a scratch file renamed into place), never a
# symlink: a link where a record, a log or a blob belongs was put there by someone else and is
# not followed (`logs` or the UI must not serve /etc/passwd through a linked stdout.log). The
# root and the folders above the file may be links (a datastore moved to another disk).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def open_regular(path: str):
    """``path`` opened for unbuffered binary reading if it is a regular file; FileNotFoundError
    when absent, UnreadableEntry (naming it and what to do) when it is something else."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        raise
    except NotADirectoryError:  # a folder on the way is a file: the entry cannot exist
        raise FileNotFoundError(errno.ENOENT, "not found", path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableEntry(errno.ELOOP, f"{path} is a symbolic link, which the datastore never writes; "
                                  "it is not followed (delete it)") from None
        raise UnreadableEntry(exc.errno, f"{path} cannot be read ({exc.strerror}); "
                              "fix its permissions or delete it") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnreadableEntry(errno.EISDIR, f"{path} is not a regular file (a directory or a device where the "
                              "datastore keeps a file); delete it")
    return os.fdopen(fd, "rb", buffering=0)


def _replace(tmp: str, final: str) -> None:
    """``os.replace`` that says what to do when a directory sits where the file goes (a symlink
    is replaced itself, never written through)."""
    try:
        os.replace(tmp, final)
    except IsADirectoryError:
        os.unlink(tmp)
        raise UnreadableEntry(errno.EISDIR, f"{final} is a directory where the datastore keeps a file; "
                              "delete it and run again") from None


class Storage:
    root: str

    def url(self, key: str) -> str:
        raise NotImplementedError


class LocalStorage(Storage):
    is_local = True

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def url(self, key: str) -> str:
        return self.path(key)

    def exists(self, key: str) -> bool:
        return os.path.exists(self.path(key))

    def _tmp_for(self, final: str) -> str:
        os.makedirs(os.path.dirname(final), exist_ok=True)
        return f"{final}.tmp-{os.urandom(8).hex()}"

    def put_bytes(self, key: str, data: bytes) -> None:
        final = self.path(key)
        tmp = self._tmp_for(final)
        with open(tmp, "wb") as out:
            out.write(data)
        _replace(tmp, final)

    def put_file(self, key: str, local_path: str, move: bool = False) -> None:
        final = self.path(key)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        if move:
            _replace(local_path, final)  # same filesystem: caller made it with tmp_path()
            return
        import shutil

        tmp = self._tmp_for(final)
        shutil.copyfile(local_path, tmp)
        _replace(tmp, final)

    def tmp_path(self, key: str) -> str:
        """A scratch file on the same filesystem as ``key`` (for a later put_file(move=True))."""
        return self._tmp_for(self.path(key))

    def get_bytes(self, key: str) -> bytes | None:
        try:
            with open_regular(self.path(key)) as src:
                return src.readall()
        except FileNotFoundError:
            return None

    def open_read(self, key: str):
        return open_regular(self.path(key))

    def local_copy(self, key: str) -> tuple[str, bool]:
        """A local file holding ``key``; the bool says whether the caller must delete it."""
        return self.path(key), False

    def list_children(self, prefix: str) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.path(prefix)) if ".tmp-" not in n)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def size(self, key: str) -> int | None:
        try:
            return os.path.getsize(self.path(key))
        except FileNotFoundError:
            return None


class S3Storage(Storage):
    is_local = False

    def __init__(self, url: str):
        rest = url[len("s3://"):]
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/")
        self.root = url.rstrip("/")
        self._transfer = None

    @property
    def client(self):
        from .aws import client

        return client("s3")

    def key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.key(key)}"

    def _config(self):
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE,
                              max_concurrency=MAX_CONCURRENCY, use_threads=True)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(key), Body=data)

    def put_file(self, key: str, local_path: str, move: bool = False) -> None:
        try:
            self.client.upload_file(local_path, self.bucket, self.key(key), Config=self._config())
        finally:
            if move:
                os.unlink(local_path)  # the scratch file goes whether or not the upload worked

    def tmp_path(self, key: str) -> str:
        import tempfile

        fd, path = tempfile.mkstemp(prefix="sfncompile-tmp-")
        os.close(fd)
        return path

    def get_bytes(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def open_read(self, key: str):
        return self.client.get_object(Bucket=self.bucket, Key=self.key(key))["Body"]

    def local_copy(self, key: str) -> tuple[str, bool]:
        path = self.tmp_path(key)
        self.client.download_file(self.bucket, self.key(key), path, Config=self._config())
        return path, True

    def list_children(self, prefix: str) -> list[str]:
        full = self.key(prefix).rstrip("/")
        full = f"{full}/" if full else ""  # the bucket's top level when the root has no prefix
        names: set[str] = set()
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.add(common["Prefix"][len(full):].rstrip("/"))
            for obj in page.get("Contents", []):
                names.add(obj["Key"][len(full):])
        return sorted(n for n in names if n)

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(key))["ContentLength"]
        except ClientError:
            return None


def open_storage(root: str) -> Storage:
    if root.startswith("s3://"):
        return S3Storage(root)
    return LocalStorage(root)
