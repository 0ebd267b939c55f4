"""IncludeFile with a default computed by a function (Metaflow's tutorials 01 and 02), and a
parameter whose default is a function of the ParameterContext."""

import os

from metaflow import FlowSpec, IncludeFile, Parameter, step


def script_path(filename):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)


def default_greeting(context):
    return f"hello from {context.flow_name} ({context.parameter_name})"


class IncludeDefaultFlow(FlowSpec):
    movie_data = IncludeFile("movie_data", help="a CSV file", default=script_path("movies.csv"))
    greeting = Parameter("greeting", default=default_greeting)

    @step
    def start(self):
        self.lines = self.movie_data.splitlines()
        self.next(self.end)

    @step
    def end(self):
        self.count = len(self.lines) - 1  # minus the header


if __name__ == "__main__":
    IncludeDefaultFlow()
