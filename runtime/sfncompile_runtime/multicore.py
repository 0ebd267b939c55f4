"""``parallel_map`` / ``parallel_imap_unordered`` (``metaflow.multicore_utils``).

As in Metaflow: one forked child per item (so lambdas and closures work), at
most ``max_parallel`` at a time (default: the CPU count), each result pickled
to a temporary file that the parent reads back. POSIX only (``os.fork``).
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
import traceback
from itertools import islice


class MulticoreException(Exception):
    pass


def _spawn(func, arg, dir):
    handle, output = tempfile.mkstemp(prefix="parallel_map_", dir=dir)
    os.close(handle)
    sys.stdout.flush()
    sys.stderr.flush()  # else the child repeats what is still buffered
    pid = os.fork()
    if pid:
        return pid, output
    code = 1
    try:
        result = func(arg)
        with open(output, "wb") as out:
            pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # never run the parent's cleanup code in the child


def parallel_imap_unordered(func, iterable, max_parallel=None, dir=None):
    """Yield ``func(x)`` for each ``x`` of ``iterable``, in the order they finish."""
    if max_parallel is None:
        max_parallel = os.cpu_count() or 1
    args = iter(iterable)
    running = [_spawn(func, arg, dir) for arg in islice(args, max_parallel)]
    try:
        while running:
            for position, (pid, output) in enumerate(running):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    running.pop(position)
                    break
            else:
                time.sleep(0.05)
                continue
            try:
                if os.waitstatus_to_exitcode(status) != 0:
                    raise MulticoreException("Child failed")
                with open(output, "rb") as src:
                    result = pickle.load(src)
            finally:
                os.remove(output)
            yield result
            for arg in islice(args, 1):
                running.insert(0, _spawn(func, arg, dir))
    finally:
        for pid, output in running:  # a failure above: do not leave children or files behind
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
            if os.path.exists(output):
                os.remove(output)


def parallel_map(func, iterable, max_parallel=None, dir=None) -> list:
    """``[func(x) for x in iterable]`` computed in parallel processes, in order."""

    def indexed(pair):
        index, arg = pair
        return index, func(arg)

    results = parallel_imap_unordered(indexed, enumerate(iterable), max_parallel=max_parallel, dir=dir)
    return [value for _, value in sorted(results, key=lambda pair: pair[0])]
