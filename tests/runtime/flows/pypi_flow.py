from sfncompile import FlowSpec, pypi, step


class PypiFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.fmt)

    @pypi(packages={"humanize": "4.17.0"})
    @step
    def fmt(self):
        import humanize

        self.text = humanize.intcomma(1234567)
        self.where = humanize.__file__
        self.next(self.end)

    @step
    def end(self):
        pass
