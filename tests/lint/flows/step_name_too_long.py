from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a_really_long_step_name_that_goes_on_and_on_and_on_well_past_what_step_functions_allow)

    @step
    def a_really_long_step_name_that_goes_on_and_on_and_on_well_past_what_step_functions_allow(self):  # expect: SFN102
        self.next(self.end)

    @step
    def end(self):
        pass
