"""Record the tutorials' end artifacts with Metaflow itself, into ``expected.json``.

    /work/mfvenv/bin/python tests/tutorials/record.py

Run with a Python that has Metaflow 2.19 (never needed by the test suite,
which compares against the recorded file). Each episode runs in a fresh copy
of ``metaflow_tutorials/`` with its own local datastore, as
``python FLOW.py run [--NAME VALUE]... [OPTIONS]``; ``episodes.py`` then
reads the runs back through Metaflow's client.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from episodes import RUNS  # noqa: E402


def environment(workdir: Path) -> dict:
    return {"PATH": os.environ["PATH"], "HOME": str(workdir), "USER": "tester", "METAFLOW_USER": "tester",
            "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf_8", "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(workdir)}


def record_episode(episode: str) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"record_{episode}_"))
    try:
        shutil.copytree(HERE / "metaflow_tutorials", workdir / "tutorials")
        env = environment(workdir)
        for flow_file, params, options in RUNS[episode]:
            argv = [sys.executable, str(workdir / "tutorials" / flow_file), "run"]
            for name, value in params.items():
                argv += [f"--{name}", value]
            proc = subprocess.run(argv + options, cwd=workdir, env=env, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"{episode}: {' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
        proc = subprocess.run([sys.executable, str(HERE / "episodes.py"), "metaflow", episode], cwd=workdir,
                              env=env, capture_output=True, text=True, check=True)
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    import metaflow

    expected = {"recorded_with": f"metaflow {metaflow.__version__}",
                "recorded_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "episodes": {}}
    for episode in RUNS:
        print(f"recording {episode}", file=sys.stderr)
        expected["episodes"][episode] = record_episode(episode)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
