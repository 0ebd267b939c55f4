"""The name of the variable that carries the CLI's ``--config``/``--config-value`` to the front end.

A module of its own, apart from ``frontend.configs``: the CLI sets the variable on every
``run``, and importing ``configs`` would import libcst (~0.1 s), which a run whose graph
is cached never needs.
"""

# The CLI's --config/--config-value of this launch, as JSON {"config": [[name, path], ...],
# "config_value": [[name, text], ...]} (paths absolute), and for a resume "resolved": {name: value}
# (the origin run's values, used as they are). An environment variable rather than an
# argument because the compile may happen in a child process (the CDK app of `deploy`).
CLI_OPTIONS = "SFNCOMPILE_CONFIG_OPTIONS"
