"""An AWS stand-in to try ``sfncompile deploy``/``trigger`` by hand, offline (the README's session).

moto in server mode on 127.0.0.1 with the patches the deploy tests use (CloudFormation gaps, Batch
jobs run as local processes, EventBridge rules), executing state machines. From a checkout with the
[test] extra installed::

    python -m tests.support.standin 5000

then point sfncompile at it: AWS_ENDPOINT_URL=http://127.0.0.1:5000, any credentials, a region.
Stops on Ctrl-C.
"""

from __future__ import annotations

import os
import sys
import threading


def main(argv: list[str]) -> None:
    from moto.server import ThreadedMotoServer

    from tests.support import moto_batch, moto_cfn, moto_events
    from tests.support.moto_server import MotoServer

    port = int(argv[0]) if argv else 5000
    # Batch jobs run as processes of this one: they reach the stand-in with these (as do moto's own
    # Step Functions calls, through MOTO_PORT).
    os.environ.update(MotoServer(port, None).env())
    moto_cfn.install()
    moto_batch.install()
    moto_events.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    moto_batch.enable_execution(MotoServer(port, server))
    print(f"AWS stand-in (moto) on http://127.0.0.1:{port}; Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
