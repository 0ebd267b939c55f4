"""Per-user private cache directories for things that are later executed (environments).

A directory under the shared temp directory that another user could create
first (or write into) would let them plant what our tasks run. So: one
directory per user id, created 0700; an existing one must be ours, not a
symlink, and not writable by anyone else — otherwise we refuse, naming it.
The bootstrap applies the same rule to the code cache, inline.
"""

from __future__ import annotations

import os
import stat


class UnsafeCacheDir(RuntimeError):
    """A cache directory someone else owns or can write to."""


def private_dir(path: str) -> str:
    """``path``, created 0700 if missing; refused unless it is a real directory of ours that only we can write."""
    os.makedirs(path, 0o700, exist_ok=True)
    info = os.lstat(path)
    uid = os.getuid()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o022:
        raise UnsafeCacheDir(f"the cache directory {path} is not private to user {uid} (owner {info.st_uid}, "
                             f"mode {stat.S_IMODE(info.st_mode):o}); remove it, or point TMPDIR elsewhere")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def user_temp_dir(name: str) -> str:
    """``$TMPDIR/<name>-<uid>``, private to this user."""
    return private_dir(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{name}-{os.getuid()}"))
