"""Config and config_expr (issue 9): values in decorators, parameters, steps; immutable."""
import os
from metaflow import FlowSpec, step, Config, config_expr, resources, environment, project, Parameter

@project(name=config_expr("settings").project)
class CfgFlow(FlowSpec):
    settings = Config("settings", default="config_flow_settings.json")
    extra = Config("extra", default_value={"greeting": "hi", "value": 42})
    from_config = Parameter("from_config", default=config_expr("extra").value, type=int)

    @resources(cpu=settings.cpu)
    @environment(vars={"GREETING": extra.greeting, "STR": config_expr("str(extra.value)")})
    @step
    def start(self):
        self.seen = (self.settings.cpu, self.settings["nested"]["value"], self.settings.nested.value,
                     os.environ["GREETING"], os.environ["STR"], self.from_config)
        try:
            self.settings.cpu = 5
        except TypeError:
            self.immutable = True
        self.next(self.end)

    @environment(**settings.env)
    @step
    def end(self):
        from metaflow import current
        self.mode = os.environ["MODE"]
        self.project = current.project_name
