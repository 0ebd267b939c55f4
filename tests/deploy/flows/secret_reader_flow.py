"""Reads one Secrets Manager secret through @secrets (the job role's FlowSecrets grant)."""

import os

from sfncompile import FlowSpec, secrets, step


class SecretReaderFlow(FlowSpec):
    @secrets(sources=["db-creds"])
    @step
    def start(self):
        self.user = os.environ.get("user")
        self.next(self.end)

    @step
    def end(self):
        pass
