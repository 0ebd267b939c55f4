"""Compile a flow file into what the flow stack is made of (no CDK import here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...ir import FlowGraph
from .jobspec import JobSpec, normalize


@dataclass
class FlowBuild:
    graph: FlowGraph
    path: Path
    definition: dict[str, Any]  # the ASL with ${Name} placeholders, exactly as `sfncompile compile` emits
    definition_text: str  # render(definition): the bytes that go into DefinitionString
    placeholders: set[str]
    job_specs: dict[str, JobSpec]  # placeholder name (JobDefinition<Key>) -> spec


def placeholder_for(key: str) -> str:
    return key if key.startswith("JobDefinition") else f"JobDefinition{key}"


def compile_flow(path: str | Path, flow: str | None = None, jobdef_settings: Any = None,
                 with_specs=()) -> FlowBuild:
    from ... import pipeline
    from .. import asl, jobdefs

    graph = pipeline.load_graph(str(path), flow, with_specs)
    definition = asl.compile_definition(graph)
    specs = jobdefs.job_definitions(graph, jobdef_settings)
    return FlowBuild(
        graph=graph, path=Path(path), definition=definition, definition_text=asl.render(definition),
        placeholders=set(asl.substitutions_needed(definition)),
        job_specs={placeholder_for(k): normalize(k, v) for k, v in specs.items()},
    )
