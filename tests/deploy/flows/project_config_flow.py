"""A @project flow with a Config only the flow's code gives (a parser function): deployed, its
tasks must see the deployment's branch and the config compiled in at deploy time."""

from metaflow import Config, FlowSpec, current, environment, project, step


def pair_parser(text):
    key, value = text.split("=")
    return {key.strip(): value.strip()}


@project(name="branchy")
class ProjectConfigFlow(FlowSpec):
    setting = Config("setting", default_value="mode = fast", parser=pair_parser)

    @environment(vars={"MODE": setting.mode})
    @step
    def start(self):
        import os

        self.branch = current.branch_name
        self.is_production = current.is_production
        self.project_flow_name = current.project_flow_name
        self.mode = os.environ["MODE"]
        self.next(self.end)

    @step
    def end(self):
        pass
