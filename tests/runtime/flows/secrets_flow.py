import os

from metaflow import FlowSpec, secrets, step

INLINE = [{"type": "inline", "id": "1",
           "options": {"env_vars": {"secret_1": "Pizza is a vegetable.", "SECRET_2": "How do eels reproduce?"}}}]


class SecretsFlow(FlowSpec):
    """Metaflow's SecretsDecoratorTest sources (inline) and AWS Secrets Manager ones."""

    @secrets(sources=INLINE)
    @step
    def start(self):
        self.inline = (os.environ.get("secret_1"), os.environ.get("SECRET_2"))
        self.next(self.end)

    @secrets(sources=["aws-secrets-manager.db-creds",
                      {"type": "aws-secrets-manager", "id": "plain", "options": {"json": False, "env_var_name": "PLAIN"}}])
    @step
    def end(self):
        self.aws = (os.environ.get("user"), os.environ.get("pass_word"), os.environ.get("PLAIN"))
        self.leaked = os.environ.get("secret_1")  # another step's secret is not here
