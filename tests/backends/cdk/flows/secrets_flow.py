import os

from metaflow import FlowSpec, secrets, step


class SecretsFlow(FlowSpec):
    """@secrets sources of every kind: what the job role may read or assume."""

    @secrets(sources=["db-creds", {"type": "inline", "id": "t", "options": {"env_vars": {"A": "1"}}}])
    @step
    def start(self):
        self.user = os.environ.get("user")
        self.next(self.end)

    @secrets(sources=["arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-key-AbC123",
                      {"id": "west", "options": {"region": "us-west-2"}},
                      {"id": "theirs", "role": "arn:aws:iam::444455556666:role/secret-reader"}])
    @step
    def end(self):
        pass
