"""Flows written the way Metaflow's tutorials and users write them read cleanly.

Guards against front-end false positives: none of these may produce an error
from the front end (the lint may still have opinions about unsupported features).
"""

from __future__ import annotations

import pytest

from .helpers import parse

TUTORIAL_PLAYLIST = '''
from metaflow import FlowSpec, step, IncludeFile, Parameter


def script_path(filename):
    import os
    return os.path.join(os.path.dirname(__file__), filename)


class PlayListFlow(FlowSpec):
    """A flow to help you build your favorite movie playlist."""

    movie_data = IncludeFile("movie_data", help="The path to a movie metadata file.",
                             default=script_path("movies.csv"))
    genre = Parameter("genre", help="Filter movies for a particular genre.", default="Sci-Fi")
    recommendations = Parameter("recommendations", help="The number of movies to recommend in "
                                "the playlist.", default=5)

    @step
    def start(self):
        columns = ["movie_title", "genres"]
        self.dataframe = dict((column, list()) for column in columns)
        for line in self.movie_data.split("\\n")[1:]:
            if not line:
                continue
        self.next(self.bonus_movie, self.genre_movies)

    @step
    def bonus_movie(self):
        from random import choice
        self.bonus = choice([1, 2])
        self.next(self.join)

    @step
    def genre_movies(self):
        self.movies = []
        self.next(self.join)

    @step
    def join(self, inputs):
        self.playlist = inputs.genre_movies.movies
        self.bonus = inputs.bonus_movie.bonus
        self.next(self.end)

    @step
    def end(self):
        for pick, movie in enumerate(self.playlist, start=1):
            if pick >= self.recommendations:
                break


if __name__ == "__main__":
    PlayListFlow()
'''

TYPED_AND_DECORATED = '''
import json
from typing import Any

import metaflow
from metaflow import FlowSpec, JSONType, Parameter, current, step
from metaflow import retry as retry_step

DEFAULTS: dict[str, Any] = {"depth": 3, "trees": 100}
MEMORY_MB = 4 * 1024


@metaflow.schedule(cron="0 6 * * ? *")
@metaflow.project(name="forest")
class ForestFlow(FlowSpec):
    params = Parameter("params", type=JSONType, default=json.dumps(DEFAULTS))
    seeds = Parameter("seeds", default="1,2,3", separator=",")

    @step
    def start(self) -> None:
        self.seed_list = [int(s) for s in self.seeds]
        self.next(self.train, foreach="seed_list")

    @metaflow.resources(memory=MEMORY_MB, cpu=2)
    @retry_step(times=2)
    @step
    def train(self) -> None:
        self.seed = self.input
        self.run = current.run_id
        self.next(self.gather)

    @step
    def gather(self, inputs) -> None:
        self.merge_artifacts(inputs, include=["run"])
        self.best = max(i.seed for i in inputs)
        self.next(self.end)

    @step
    def end(self) -> None:
        """All done."""
'''


@pytest.mark.parametrize("source", [TUTORIAL_PLAYLIST, TYPED_AND_DECORATED], ids=["playlist", "typed"])
def test_no_front_end_errors(source):
    graph, diagnostics = parse(source)
    assert graph is not None
    assert [d.format() for d in diagnostics if d.severity == "error"] == []


def test_typed_flow_details():
    graph, diagnostics = parse(TYPED_AND_DECORATED)
    assert diagnostics == []
    assert [d.name for d in graph.decorators] == ["schedule", "project"]
    assert graph["train"].decorator("resources").args == {"memory": 4096, "cpu": 2}
    assert graph["train"].decorator("retry").args == {"times": 2}
    assert graph["train"].foreach_stack == ["start"]
    params = {p.name: p for p in graph.parameters}
    assert params["params"].type == "json" and not params["params"].default_is_function
    assert params["params"].default == '{"depth": 3, "trees": 100}'  # json.dumps of a constant, evaluated
    assert params["seeds"].separator == ","
