"""Pass, Succeed, Fail, Wait and Choice: the states that only move data and control."""

from __future__ import annotations

from datetime import datetime, timezone

from . import errors as E
from .choice import evaluate_rule, parse_timestamp
from .errors import PathError, StatesError
from .payload import RuntimeFailure, View, apply_input_path, compact, evaluate_expression, render, resolve_path


class FlowStates:
    """Mixin of ``Interpreter``: one ``_state_<kind>`` method per state kind."""

    # ------------------------------------------------------------ Pass

    def _state_pass(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        view = View(effective, context, frame.variables)
        if "Parameters" in state:
            effective = render(state["Parameters"], view)
        result = state["Result"] if "Result" in state else effective
        return self._finish(name, state, "Pass", raw, result, frame, context, result)

    # ------------------------------------------------------------ Succeed / Fail

    def _state_succeed(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        output = apply_input_path(state, "OutputPath", effective, view)
        frame.history.add("SucceedStateExited", name=name, output=output)
        return None, output

    def _state_fail(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        error, cause = state.get("Error"), state.get("Cause")
        if "ErrorPath" in state:
            error = self._fail_field(state["ErrorPath"], view, "ErrorPath")
        if "CausePath" in state:
            cause = self._fail_field(state["CausePath"], view, "CausePath")
        raise StatesError(error, cause)

    @staticmethod
    def _fail_field(text, view, field_name):
        try:
            value = evaluate_expression(text, view)
        except PathError as exc:
            raise RuntimeFailure(f"Invalid path '{text}' : {exc.message}") from None
        if not isinstance(value, str):
            raise RuntimeFailure(f"The {field_name} field must resolve to a string: {text}")
        return value

    # ------------------------------------------------------------ Wait

    def _state_wait(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        view = View(effective, context, frame.variables)
        seconds = 0.0
        if "Seconds" in state:
            seconds = float(state["Seconds"])
        elif "SecondsPath" in state:
            text = state["SecondsPath"]
            try:
                value = resolve_path(text, view)
            except PathError:
                raise RuntimeFailure(f"The SecondsPath parameter does not reference an input value: {text}") from None
            if isinstance(value, bool) or not isinstance(value, int):
                raise RuntimeFailure(f"The SecondsPath parameter cannot be parsed as a long value: {text} == {compact(value)}")
            if value < 0:
                raise RuntimeFailure(f"The SecondsPath parameter references a negative value: {text} == {value}")
            seconds = value
        elif "Timestamp" in state or "TimestampPath" in state:
            if "Timestamp" in state:
                stamp = parse_timestamp(state["Timestamp"])
                if stamp is None:
                    raise RuntimeFailure(f"The Timestamp parameter is not a valid ISO-8601 timestamp: {state['Timestamp']}")
            else:
                text = state["TimestampPath"]
                try:
                    value = resolve_path(text, view)
                except PathError:
                    raise RuntimeFailure(f"The TimestampPath parameter does not reference an input value: {text}") from None
                stamp = parse_timestamp(value)
                if stamp is None:
                    shown = value if isinstance(value, str) else compact(value)
                    raise RuntimeFailure(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                        f"date-time format string: {text} == {shown}"
                    )
            seconds = (stamp - datetime.now(timezone.utc)).total_seconds()
        if seconds > 0 and frame.cancel.wait(seconds):
            frame.cancel.check()
        return self._wait_exit(name, state, raw, effective, frame, context)

    def _wait_exit(self, name, state, raw, effective, frame, context):
        view = View(effective, context, frame.variables)
        output = apply_input_path(state, "OutputPath", effective, view)
        self._assign(state.get("Assign"), View(effective, context, frame.variables), frame)
        frame.history.add("WaitStateExited", name=name, output=output)
        return self._next(state), output

    # ------------------------------------------------------------ Choice

    def _state_choice(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        view = View(effective, context, frame.variables)

        def resolve(text):
            return resolve_path(text, view)

        target, matched = state.get("Default"), None
        for rule in state.get("Choices", []):
            try:
                ok = evaluate_rule(rule, resolve)
            except PathError as exc:
                raise RuntimeFailure(f"Invalid path '{rule.get('Variable')}' : {exc.message}") from None
            if ok:
                target, matched = rule["Next"], rule
                break
        if target is None:
            raise StatesError(E.NO_CHOICE_MATCHED, "No Matches!")
        output = apply_input_path(state, "OutputPath", effective, view)
        assign_view = View(effective, context, frame.variables)
        # The matched rule's Assign and the state's Assign see the same (old) variables.
        values = {}
        if state.get("Assign"):
            values.update(render(state["Assign"], assign_view))
        if matched is not None and matched.get("Assign"):
            values.update(render(matched["Assign"], assign_view))
        frame.variables.update(values)
        frame.history.add("ChoiceStateExited", name=name, output=output)
        return target, output
