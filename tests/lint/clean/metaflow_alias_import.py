import metaflow as mf
from metaflow import Parameter as P


class AliasFlow(mf.FlowSpec):
    size = P("size", default=3)

    @mf.step
    def start(self):
        self.items = list(range(self.size))
        self.next(self.square, foreach="items")

    @mf.retry(times=1)
    @mf.step
    def square(self):
        self.value = self.input ** 2
        self.next(self.join)

    @mf.step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @mf.step
    def end(self):
        pass
