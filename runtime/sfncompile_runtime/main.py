"""The step runner: ``python3 -c BOOTSTRAP <mode> <step>`` ends up here.

One process runs one task attempt:

1. read the contract's environment (docs/state-machine.md §1-§2) and
   ``graph.json`` from the code package;
2. on a resume, clone the origin run's committed attempt when this step is not
   to be re-run (a new record pointing at the same blobs; nothing recomputed);
3. import the flow (``metaflow``/``sfncompile`` resolve to the runtime's API),
   bind the task's view of its parents' artifacts (references, loaded lazily);
4. run the step with stdout/stderr teed into the datastore and ``@timeout``
   enforced in-process; ``@catch`` turns the final failure into data;
5. store new artifacts (content-addressed), publish foreach width / switch
   branch on the side channel, and commit the attempt with one small write.

Mode ``exit-hook`` (step ``success``/``error``) runs the flow's ``@exit_hook``
functions instead of a step: ``exit_hooks.py``.

Exit status: 0 when the attempt committed as ``ok``; 1 when the step failed
(the failure is committed as a ``failed`` record); 2 for a broken setup.
"""

from __future__ import annotations

import json
import os
import sys
import time

from . import envnames, graphinfo
from .codepackage import package_dir, read_package
from .datastore import (Datastore, DatastoreIntegrityError, attempt_prefix, default_user, new_run_record,
                        split_task_id, step_numbers, task_id_for, visit_task_id)
from .exceptions import ExceptionWrapper, TimeoutException
from .failures import SetupError, StepFailure
from .storage import UnreadableEntry

MODES = ("step", "fallback", "exit-hook")

# True once this process has finished a task without running any of the flow's code itself
# (the step ran in a forked child, or the task was cloned): see ``exit_process``.
_runtime_only = False


def main(argv: list[str]) -> int:
    from .processes import adopt_orphans, watch_parent

    watch_parent()  # a local run's task ends with its executor, however the executor ends
    if len(argv) < 2 or argv[0] not in MODES:
        print(f"usage: BOOTSTRAP ({'|'.join(MODES)}) STEP", file=sys.stderr)
        return 2
    adopt_orphans()  # what the step leaves behind stays findable below this process
    mode, step = argv[0], argv[1]
    if mode == "exit-hook":  # ``step`` is "success" or "error": the flow's @exit_hook functions
        from .exit_hooks import run_hooks

        return run_hooks(step, package_dir())
    try:
        task = Task.from_environment(mode, step)
    except SetupError as exc:
        print(f"sfncompile: {exc}", file=sys.stderr)
        return 2
    return task.run()


def exit_process(code: int):
    """End the task's process with ``code``, as ``sys.exit(code)`` at the top level would.

    When this process ran none of the flow's code (the supervised step ran in a forked child,
    which leaves by ``os._exit``, or the task was cloned), nothing in it needs the interpreter's
    teardown of every loaded module, which costs about as much as a small step: after what a
    normal exit does that anyone can see (non-daemon threads joined, atexit handlers run, the
    standard streams flushed) it leaves at once. Otherwise (``SFNCOMPILE_SUPERVISE=0``, exit
    hooks) it is ``sys.exit``."""
    if not _runtime_only:
        sys.exit(code)
    from .processes import exit_without_teardown

    exit_without_teardown(code if isinstance(code, int) else 1)


class Task:
    def __init__(self, mode: str, step: str, graph: dict, manifest: dict, package_dir: str, env: dict):
        self.mode = mode
        self.step = step
        self.graph = graph
        self.manifest = manifest
        self.package_dir = package_dir
        self.flow_name = graph["name"]
        if step not in graph["steps"]:
            raise SetupError(f"flow {self.flow_name} has no step '{step}'")
        self.node = graph["steps"][step]
        self.run_id = env.get(envnames.RUN_ID) or ""
        if not self.run_id:
            raise SetupError(f"{envnames.RUN_ID} is not set")
        self.index_path = env.get(envnames.INDEX_PATH, "") or ""
        # The task id at this index path (unique within the run: docs/datastore.md); a step in a
        # switch loop runs each visit as a task of its own (``_visit_task_id``).
        self._step_numbers = step_numbers(graph)
        self.base_task_id = self.task_id_of(step, self.index_path)
        self.task_id = self.base_task_id
        self.visit = 0
        # The state machine knows index paths, not task ids: it reads the side channel item of
        # ``<Flow>/<run>/<step>/<index path or 0>`` (docs/state-machine.md §4).
        self.side_channel_id = self.index_path or "0"
        try:
            self.retry_count = int(env.get(envnames.RETRY_COUNT) or 0)
        except ValueError:
            raise SetupError(f"{envnames.RETRY_COUNT} must be an integer, got {env.get(envnames.RETRY_COUNT)!r}")
        self.parameters_json = env.get(envnames.PARAMETERS)
        self.caught_error = env.get(envnames.CAUGHT_ERROR)
        self.foreach_mode = env.get(envnames.FOREACH)
        self.production_token = env.get(envnames.PRODUCTION_TOKEN) or None
        root = env.get(envnames.DATASTORE)
        if not root:
            raise SetupError(f"{envnames.DATASTORE} is not set")
        self.store = Datastore(root, self.flow_name)
        self.side_channel_spec = env.get(envnames.SIDE_CHANNEL) or ""
        self._records: dict[tuple[str, str], dict] = {}
        self.attempt = None
        self.started_at = time.time()

    @classmethod
    def from_environment(cls, mode: str, step: str) -> "Task":
        directory = package_dir()
        graph, manifest = read_package(directory)
        return cls(mode, step, graph, manifest, directory, os.environ)

    # -- records of other tasks ------------------------------------------------
    def task_id_of(self, step: str, index_path: str) -> str:
        """The id of this run's task of ``step`` at ``index_path`` (its first visit)."""
        if step not in self._step_numbers:
            raise SetupError(f"flow {self.flow_name} has no step '{step}'")
        return task_id_for(self.graph, step, index_path, numbers=self._step_numbers)

    def record_of(self, step: str, task_id: str) -> dict:
        key = (step, task_id)
        if key not in self._records:
            if graphinfo.in_loop(self.graph, step):  # the latest visit that succeeded
                record = None
                for visit in reversed(self.store.visits(self.run_id, step, task_id)):
                    record = self.store.latest_record(self.run_id, step, visit)
                    if record is not None:
                        break
            else:
                record = self.store.latest_record(self.run_id, step, task_id)
            if record is None:
                raise SetupError(f"step '{self.step}' needs the output of {self.flow_name}/{self.run_id}/{step}/{task_id}, "
                                 "which has no successful attempt")
            self._records[key] = record
        return self._records[key]

    def maybe_record(self, step: str, task_id: str) -> dict | None:
        try:
            return self.record_of(step, task_id)
        except SetupError:
            return None

    # -- run -------------------------------------------------------------------
    def run(self) -> int:
        if graphinfo.in_loop(self.graph, self.step):
            self.task_id = self._visit_task_id()
            self.visit = split_task_id(self.task_id)[1]
        run_record = self._run_record()
        self.run_record = run_record
        self.user = run_record.get("user") or default_user()
        origin = run_record.get("origin_run_id")
        rerun = run_record.get("rerun_steps")
        if origin and rerun is not None and self.step not in rerun and self.mode == "step":
            if self._clone_from(origin):
                _ran_no_user_code()
                return 0
        environment_error = None
        try:
            from .environments import reexec_in_pypi_environment

            reexec_in_pypi_environment(self)  # returns unless this process is replaced by the venv's
        except Exception as exc:  # recorded as this attempt's failure below
            environment_error = exc
        self.attempt = self._allocate_attempt()
        prefix = attempt_prefix(self.flow_name, self.run_id, self.step, self.task_id, self.attempt)
        self.store.write_json(f"{prefix}/started.json", {
            "attempt": self.attempt, "retry_count": self.retry_count, "mode": self.mode, "started_at": self.started_at,
            "host": os.uname().nodename if hasattr(os, "uname") else "", "pid": os.getpid(),
            "index_path": self.index_path, "visit": self.visit, "code_sha256": os.environ.get(envnames.CODE_SHA256),
            "python_version": _python_version()})
        from .logcapture import LogCapture

        capture = LogCapture(self.store.storage, prefix)
        capture.start()
        exit_code = 1
        try:
            if hasattr(os, "fork") and os.environ.get("SFNCOMPILE_SUPERVISE", "1") != "0":
                exit_code = self._supervised(environment_error, capture)
                _ran_no_user_code()
            else:
                exit_code = self._execute(environment_error)
        finally:
            from .processes import end_leftover_processes

            ended = end_leftover_processes()  # what the step left running dies with the task, as on Batch
            if ended:
                print(f"sfncompile: ended {ended} process(es) step '{self.step}' left running", file=sys.stderr)
            capture.stop()
        return exit_code

    def _supervised(self, environment_error, capture) -> int:
        """Run the step in a forked child while this process keeps the log pipes.

        A child that dies of a signal (a segmentation fault in a C extension, the OOM
        killer) cannot report itself: what it printed is still in the pipes, which this
        process drains, and this process says what happened in the task's stderr and
        commits the failed attempt (Metaflow's runtime does the same for its tasks)."""
        import signal

        from .processes import end_escaped_processes_on_sigterm

        end_escaped_processes_on_sigterm()
        pid = os.fork()
        if pid == 0:  # the child: the step itself
            code = 1
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the supervisor's handler is not the step's
            try:
                import faulthandler

                from . import aws

                faulthandler.enable()  # a Python traceback of the crash, into the task's stderr
                from .processes import close_parent_watch

                close_parent_watch()
                aws.reset_after_fork(child=True)
                code = self._execute(environment_error)
            except BaseException:  # never return into the parent's stack
                import traceback

                traceback.print_exc()
            finally:
                from .processes import flush_standard_streams

                flush_standard_streams()
                os._exit(code)
        from . import aws

        aws.reset_after_fork(child=False)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if os.WIFEXITED(status):
            return os.WEXITSTATUS(status)
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        what = ("Task failed with a segmentation fault." if number == signal.SIGSEGV
                else f"Task was killed by {name}.")
        capture.write_stderr(f"sfncompile: {what} (step '{self.step}', the step's process ended by {name})\n")
        record = self._base_record()
        record.update({"status": "failed", "finished_at": time.time(), "exit_code": 128 + number, "artifacts": {},
                       "exception": {"type": "SegmentationFault" if number == signal.SIGSEGV else "TaskKilled",
                                     "message": what, "traceback": ""}})
        if self.store.attempt_record(self.run_id, self.step, self.task_id, self.attempt) is None:
            self._commit(record)
        return 128 + number

    def _run_record(self) -> dict:
        record = self.store.read_run(self.run_id)
        if record is not None:
            return record
        if self.step == self.graph.get("start") and self.mode == "step":
            # A run started outside sfncompile (EventBridge schedule/trigger): the
            # start step writes the run record so the client can find the run.
            params = self._parameters_input()
            user = default_user() if not self.production_token else "production"
            record = new_run_record(self.flow_name, self.run_id, parameters=params, end_step=self.graph.get("end"),
                                    production_token=self.production_token, user=user, started_by="start step",
                                    project=self._project({}, user))
            self.store.write_run(self.run_id, record)
            return record
        return {"run_id": self.run_id, "user": default_user()}

    def _visit_task_id(self) -> str:
        """A new visit's task id, or the visit in progress when this is its retry (or its @catch
        fallback): the latest visit that has no successful attempt yet."""
        visits = self.store.visits(self.run_id, self.step, self.base_task_id)
        if visits and self.store.latest_record(self.run_id, self.step, visits[-1]) is None:
            return visits[-1]
        return visit_task_id(self.base_task_id, len(visits))

    def _allocate_attempt(self) -> int:
        existing = self.store.attempts(self.run_id, self.step, self.task_id)
        return existing[-1] + 1 if existing else 0

    def _parameters_input(self) -> dict:
        if not self.parameters_json:
            return {}
        try:
            value = json.loads(self.parameters_json)
        except ValueError as exc:
            raise SetupError(f"{envnames.PARAMETERS} is not JSON: {exc}")
        if not isinstance(value, dict):
            raise SetupError(f"{envnames.PARAMETERS} must be a JSON object")
        return value

    # -- resume ----------------------------------------------------------------
    def _clone_from(self, origin: str) -> bool:
        """Metaflow's rule: a task is cloned when the origin has a successful task at the same
        place and every task it reads was cloned too (so the first task that failed or did
        not run, and everything after it, runs). In a switch loop each visit of a step is a
        task of its own (``<id>``, ``<id>-1``, ...): the k-th visit clones the origin's k-th, so a
        loop resumes at the round that failed.

        "The same place" is the step, the foreach index path and the visit, as the origin's
        records state them: the origin's task ids may differ from this run's (its graph may
        number the steps differently, or it predates run-unique ids), so the clone keeps this
        run's id and records the origin's in ``cloned_from``."""
        if not self._inputs_cloned():
            return False
        origin_task = self.store.find_task(origin, self.step, self.index_path, self.visit, hint=self.task_id)
        source = self.store.latest_record(origin, self.step, origin_task) if origin_task else None
        if source is None:
            return False
        self.attempt = self._allocate_attempt()
        record = dict(source)
        origin_pathspec = f"{self.flow_name}/{origin}/{self.step}/{origin_task}"
        record.update({"run_id": self.run_id, "task_id": self.task_id, "index_path": self.index_path,
                       "visit": self.visit, "attempt": self.attempt, "retry_count": self.retry_count,
                       "cloned_from": {"run_id": origin, "task_id": origin_task, "attempt": source.get("attempt"),
                                       "pathspec": origin_pathspec},
                       "cloned_at": time.time()})
        self._publish(record)
        self._commit(record)
        print(f"sfncompile: {self.flow_name}/{self.run_id}/{self.step}/{self.task_id} cloned from {origin_pathspec}",
              file=sys.stderr)
        return True

    def _inputs_cloned(self) -> bool:
        from .context import parent_tasks

        try:
            parents, _ = parent_tasks(self)
            return all(self.record_of(step, self.task_id_of(step, path)).get("cloned_from") for step, path in parents)
        except SetupError:  # a parent is missing: the task cannot be cloned (running it reports why)
            return False

    # -- the step itself ---------------------------------------------------------
    def _execute(self, environment_error: Exception | None = None) -> int:
        from .context import build_flow

        record = self._base_record()
        flow = None
        cards = None
        try:
            if environment_error is not None:
                raise StepFailure(str(environment_error)) from environment_error
            from .environments import prepare_environment

            prepare_environment(self)
            self._inject_secrets()
            # ``current`` is filled before the flow's parameters are evaluated: a
            # ``Parameter(default=function)`` may read it (Metaflow fills it first too).
            from .context import import_flow_class, set_config_values

            set_config_values(self.graph)
            import_flow_class(self.package_dir, self.manifest, self.flow_name)
            self._bind_current()
            flow, view = build_flow(self)
            cards = self._bind_cards(flow)
            caught = None
            if self.mode == "fallback":
                caught = self._fallback_failure()
            else:
                caught = self._run_user_code(flow)
            var = (graphinfo.decorator_args(self.node, "catch") or {}).get("var")
            if caught is not None:
                if var:
                    setattr(flow, var, caught)
                record["caught"] = caught.to_dict()
            elif var and var not in flow.__dict__:
                setattr(flow, var, None)  # Metaflow: the @catch variable is None when nothing failed
            from .context import persist

            record["artifacts"], record["parameters"], not_stored = persist(self, flow, view)
            if not_stored:
                record["not_stored"] = not_stored
            self._fill_publication(record, flow, caught)
            self._publish(record)
        except StepFailure as exc:
            return self._fail(record, exc.__cause__ or exc, exit_code=1)
        except SetupError as exc:
            return self._fail(record, exc, exit_code=2)
        except (DatastoreIntegrityError, UnreadableEntry) as exc:  # the message says which file and what to do
            return self._fail(record, StepFailure(str(exc)), exit_code=1)
        except BaseException as exc:  # a bug of ours or an unpicklable artifact: still recorded
            return self._fail(record, exc, exit_code=1)
        record.update({"status": "ok", "finished_at": time.time(), "exit_code": 0})
        self._commit(record)
        if cards is not None:  # after the commit: a card never delays or fails the task
            from .cards.render import render_final

            render_final(cards)
        return 0

    def _bind_cards(self, flow):
        """``current.card`` for a step with @card (None otherwise; the cards module is not imported)."""
        if not any(d.get("name") == "card" for d in self.node.get("decorators", [])):
            from .current import current

            current.__dict__.pop("card", None)
            return None
        from .cards.render import bind

        return bind(self, flow)

    def _inject_secrets(self) -> None:
        """@secrets: the sources' values into this process's environment (before the flow is imported)."""
        args = graphinfo.decorator_args(self.node, "secrets")
        if args is None or self.mode == "fallback":  # a fallback runs no user code
            return
        from .secretsources import SecretsError, inject

        try:
            inject(args)
        except SecretsError as exc:
            raise StepFailure(f"@secrets of step '{self.step}': {exc}") from None

    def _base_record(self) -> dict:
        return {"flow": self.flow_name, "run_id": self.run_id, "step": self.step, "task_id": self.task_id,
                "kind": self.node.get("kind"), "code_sha256": os.environ.get(envnames.CODE_SHA256),
                "flow_module": self.manifest.get("module"),
                "index_path": self.index_path, "visit": self.visit, "attempt": self.attempt,
                "retry_count": self.retry_count,
                "mode": self.mode, "started_at": self.started_at, "user": self.user}

    def _run_user_code(self, flow) -> ExceptionWrapper | None:
        method = getattr(flow, self.step, None)
        if method is None:
            raise SetupError(f"flow class {type(flow).__name__} has no step method '{self.step}'")
        seconds = graphinfo.timeout_seconds(graphinfo.decorator_args(self.node, "timeout") or {})
        try:
            with _alarm(seconds, self.step):
                if self.node.get("is_join"):
                    method(flow.__dict__["_sfn_task"].inputs)
                else:
                    method()
        except DatastoreIntegrityError as exc:  # a damaged datastore is no step outcome for @catch to keep
            raise StepFailure(str(exc)) from None
        except Exception as exc:
            wrapped = ExceptionWrapper.from_exception(exc)
            catch_args = graphinfo.decorator_args(self.node, "catch")
            if catch_args is not None and self.retry_count >= _retry_times(self.node):
                if catch_args.get("print_exception", True):
                    # Metaflow's words, on the task's stdout: the flow's str() then the traceback
                    lines = [f"@catch caught an exception from {flow}"]
                    lines += [f">  {line}" for line in wrapped.traceback.splitlines()]
                    print("\n".join(lines))
                return wrapped
            raise StepFailure(str(exc)) from exc
        if self.step != self.graph.get("end") and "_sfn_next" not in flow.__dict__:
            # `check` only warns about a path that skips self.next() (SFN133): Metaflow runs
            # such a flow and fails when that path is taken, so must we, not go on silently.
            targets = ", ".join((self.node.get("out_funcs") or []))
            raise StepFailure(f"Based on static analysis of the code, step *{self.step}* was expected to transition "
                              f"to step(s) *{targets}*. However, when the code was executed, self.next() was not "
                              "called. Make sure every path through the step ends at its self.next() call.")
        return None

    def _fallback_failure(self) -> ExceptionWrapper:
        """@catch after the attempts themselves died (killed, out of memory, a segfault, the
        container lost). A Python exception would have been caught inside the last attempt, so
        reaching the fallback means the code raised nothing: Metaflow's @catch stores
        FailureHandledByCatch then, whatever ended the process. What did end it (the last
        attempt's record, or the state machine's error) goes into the message."""
        from .exceptions import FailureHandledByCatch, public_type_name

        failed = self.store.latest_record(self.run_id, self.step, self.task_id, ok_only=False)
        cause = (failed or {}).get("exception") or {}
        detail = cause.get("message") or self.caught_error or "States.TaskFailed"
        failure = FailureHandledByCatch(self.retry_count)
        return ExceptionWrapper(public_type_name(FailureHandledByCatch), f"{failure} ({detail})", "")

    def _project(self, run_record: dict, user: str) -> dict:
        """This run's ``@project`` names (None fields without ``@project``)."""
        from .current import project_fields

        name = (graphinfo.flow_decorator_args(self.graph, "project") or {}).get("name")
        deployed = os.environ.get(envnames.PROJECT_BRANCH)
        if name and deployed:
            # A deployment's branch, fixed when it was deployed (user.<deployer>, test.<b>, prod, prod.<b>).
            return {"project_name": name, "branch_name": deployed, "project_flow_name": f"{name}.{deployed}.{self.flow_name}"}
        return project_fields(name, self.flow_name, user,
                              branch=run_record.get("branch") or os.environ.get("METAFLOW_BRANCH") or None,
                              production=self._is_production())

    def _is_production(self) -> bool:
        """Metaflow's ``current.is_production``: a production branch of ``@project`` (``--production``
        at deploy, or METAFLOW_PRODUCTION). Not the production token: every deployment has one."""
        deployed = os.environ.get(envnames.PROJECT_BRANCH)
        if deployed:
            return deployed == "prod" or deployed.startswith("prod.")
        return _truthy(os.environ.get("METAFLOW_PRODUCTION"))

    def _bind_current(self) -> None:
        from .current import current

        token = self.production_token or self.run_record.get("production_token")
        project = self._project(self.run_record, self.user)
        # Metaflow's current.tags are the run's user tags (--tag) only; the system tags
        # (user:, runtime:, project:, …) are on the client's Run.
        current._bind(flow_name=self.flow_name, run_id=self.run_id, step_name=self.step, task_id=self.task_id,
                      retry_count=self.retry_count, origin_run_id=self.run_record.get("origin_run_id"),
                      username=self.user, is_production=self._is_production(),
                      namespace=f"production:{token}" if token else f"user:{self.user}",
                      tags=frozenset(self.run_record.get("tags", [])),
                      parameter_names=tuple(p["attr"] for p in self.graph.get("parameters", [])),
                      graph=self.graph, **project)

    # -- publication -----------------------------------------------------------
    def _fill_publication(self, record: dict, flow, caught) -> None:
        kind = self.node.get("kind")
        trans = graphinfo.transition(self.node)
        if kind == "foreach" or trans.get("foreach"):
            var = trans["foreach"]
            if caught is not None:
                # A failed foreach step fans out to nothing: the flow reaches the join (contract §4).
                record["foreach"] = {"var": var, "width": 0}
                return
            try:
                items = getattr(flow, var)
                width = len(items) if hasattr(items, "__len__") else len(list(items))
            except AttributeError:
                raise StepFailure(f"step '{self.step}' declares foreach='{var}' but never sets self.{var}")
            except TypeError:
                raise StepFailure(f"step '{self.step}': foreach='{var}' must name a list or other sized iterable, "
                                  f"got {type(items).__name__}")
            if width == 0:  # Metaflow's rule and message: a foreach must fan out
                raise StepFailure(f"Foreach iterator over *{var}* in step *{self.step}* produced zero splits. "
                                  "Check your variable.")
            cap = os.environ.get(envnames.MAX_NUM_SPLITS)
            if cap and width > int(cap):
                raise StepFailure(f"Foreach in step *{self.step}* yielded {width} child steps which is more than "
                                  f"the current maximum of {cap} children. You can raise the maximum with the "
                                  "--max-num-splits option.")
            record["foreach"] = {"var": var, "width": width}
        elif kind == "switch" or trans.get("condition"):
            var = trans["condition"]
            cases = graphinfo.switch_cases(self.node)
            if caught is not None:
                return  # a failed switch chooses nothing: the state machine's Choice fails (UnknownBranch)
            try:
                value = getattr(flow, var)
            except AttributeError:
                raise StepFailure(f"step '{self.step}' switches on condition='{var}' but never sets self.{var}")
            branch = str(value)
            if branch not in cases:
                raise StepFailure(f"step '{self.step}': the switch value self.{var} = {value!r} matches no case "
                                  f"(cases: {', '.join(repr(c) for c in cases)})")
            record["branch"] = branch

    def _publish(self, record: dict) -> None:
        values = None
        if record.get("foreach") is not None:
            from .sidechannel import ForeachTooWide, foreach_plan, foreach_values

            width = int(record["foreach"]["width"])
            try:
                items, manifest = foreach_plan(self.foreach_mode, width)
            except ForeachTooWide as exc:
                raise StepFailure(f"foreach '{record['foreach']['var']}' of step '{self.step}' has {width} items, more "
                                  f"than the {exc.args[0]} an inline Map of this step can take; compile with "
                                  f"--foreach-mode {self.step}=auto (or distributed)")
            bucket = key = None
            if manifest:
                manifest_key = f"{attempt_prefix(self.flow_name, self.run_id, self.step, self.task_id, self.attempt)}/manifest.json"
                self.store.storage.put_bytes(manifest_key, json.dumps(list(range(width))).encode())
                storage = self.store.storage
                if storage.is_local:
                    bucket, key = "local", storage.path(manifest_key)
                else:
                    bucket, key = storage.bucket, storage.key(manifest_key)
            values = foreach_values(width, items, bucket, key)
        elif record.get("branch") is not None:
            values = {"branch": record["branch"]}
        if values is None:
            return
        if not self.side_channel_spec:
            raise StepFailure(f"{envnames.SIDE_CHANNEL} is not set, so this step cannot publish "
                              f"its {'foreach width' if 'width' in values else 'switch value'}")
        from .sidechannel import open_side_channel

        channel = open_side_channel(self.side_channel_spec)
        channel.publish(self.flow_name, self.run_id, self.step, self.side_channel_id, values)

    def _commit(self, record: dict) -> None:
        prefix = attempt_prefix(self.flow_name, self.run_id, self.step, self.task_id, self.attempt)
        self.store.write_json(f"{prefix}/record.json", record)

    def _fail(self, record: dict, exc: BaseException, exit_code: int) -> int:
        wrapped = ExceptionWrapper.from_exception(exc)
        if isinstance(exc, (SetupError, StepFailure)):
            print(f"sfncompile: step '{self.step}' failed: {exc}", file=sys.stderr)
        else:
            print(wrapped.traceback, file=sys.stderr, end="")
            print(f"sfncompile: step '{self.step}' failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        record.update({"status": "failed", "finished_at": time.time(), "exit_code": exit_code,
                       "exception": wrapped.to_dict()})
        record.setdefault("artifacts", {})
        try:
            self._commit(record)
        except Exception as commit_error:  # the datastore itself is failing: the exit code still tells
            print(f"sfncompile: could not record the failure: {commit_error}", file=sys.stderr)
        return exit_code


def _ran_no_user_code() -> None:
    global _runtime_only
    _runtime_only = True


def _python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])
def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes", "y", "on", "t")


def _retry_times(node: dict) -> int:
    args = graphinfo.decorator_args(node, "retry")
    if args is None:
        return 0
    from .decorator_specs import with_defaults  # only after a failure under @catch: off the hot path

    return int(with_defaults("retry", args)["times"])


class _alarm:
    """Raise TimeoutException in the step after ``seconds`` (SIGALRM; main thread)."""

    def __init__(self, seconds: float, step: str):
        self.seconds = seconds
        self.step = step

    def __enter__(self):
        if self.seconds > 0:
            import signal

            def expired(signum, frame):
                raise TimeoutException(f"step '{self.step}' timed out after {self.seconds:g} seconds (@timeout)")

            self._previous = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.seconds > 0:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
        return False
