from sfncompile import FlowSpec, pypi, step


class PypiFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.fmt)

    @pypi(packages={"humanize": "4.17.0"})
    @step
    def fmt(self):
        import importlib.util
        import sys

        import humanize

        self.text = humanize.intcomma(1234567)
        self.where = humanize.__file__
        self.python = sys.executable
        self.sees_base_packages = importlib.util.find_spec("click") is not None  # click: base env only
        self.next(self.end)

    @step
    def end(self):
        pass
