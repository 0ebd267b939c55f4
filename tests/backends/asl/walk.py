"""Helpers to walk definitions in tests."""

from __future__ import annotations


def scopes(branch, path=()):
    """Yield (path, branch) for the machine and every nested branch / item processor."""
    yield path, branch
    for name, state in branch["States"].items():
        for i, sub in enumerate(state.get("Branches", [])):
            yield from scopes(sub, path + (f"{name}[{i}]",))
        if "ItemProcessor" in state:
            yield from scopes(state["ItemProcessor"], path + (name,))


def all_states(definition):
    for _, branch in scopes(definition):
        yield from branch["States"].items()


def targets(state):
    found = [state.get("Next"), state.get("Default")]
    found += [rule.get("Next") for rule in state.get("Choices", [])]
    found += [c.get("Next") for c in state.get("Catch", [])]
    return [t for t in found if t is not None]


def reachable(branch):
    seen, todo = set(), [branch["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(targets(branch["States"][name]))
    return seen
