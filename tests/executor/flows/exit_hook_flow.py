"""@exit_hook end to end: hooks leave markers in the datastore directory."""

import json
import os

from metaflow import FlowSpec, Parameter, exit_hook, step


def _marker(name, payload):
    path = os.path.join(os.environ["SFNCOMPILE_DATASTORE"], "hook-markers", name + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        json.dump(payload, out)


def sometimes_broken():
    # The job inherits the executor's environment locally: the test breaks this hook on demand.
    if os.environ.get("EXIT_HOOK_FLOW_BREAK") == "1":
        raise RuntimeError("this hook is broken")


def notify_ok(run=None):
    print("ok", run.pathspec)
    _marker("success", {"pathspec": run.pathspec, "successful": run.successful})


def no_arguments():
    _marker("no_arguments", {})


def notify_failed(run=None):
    print("failed", run)
    _marker("error", {"pathspec": run.pathspec, "successful": run.successful,
                      "caught": os.environ.get("SFNCOMPILE_CAUGHT_ERROR")})


@exit_hook(on_success=[sometimes_broken, notify_ok, no_arguments], on_error=[notify_failed])
class ExitHookFlow(FlowSpec):
    fail = Parameter("fail", type=bool, default=False)

    @step
    def start(self):
        if self.fail:
            raise ValueError("start was told to fail")
        self.next(self.end)

    @step
    def end(self):
        pass
