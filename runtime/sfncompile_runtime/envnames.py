"""The environment variable names the runner reads (docs/state-machine.md §1-§2).

Defined once here: the compiler (job definitions, ASL, the local executor)
imports these names from the runtime, never the reverse. The bootstrap is a
self-contained source string and spells CODE_URL, CODE_SHA256 and PACKAGE_DIR
out itself (tests/runtime/test_package.py checks that they agree).
"""

# Static: set by the job definition (contract §1).
CODE_URL = "SFNCOMPILE_CODE_URL"
CODE_SHA256 = "SFNCOMPILE_CODE_SHA256"
DATASTORE = "SFNCOMPILE_DATASTORE"
SIDE_CHANNEL = "SFNCOMPILE_SIDE_CHANNEL"
PRODUCTION_TOKEN = "SFNCOMPILE_PRODUCTION_TOKEN"
# A deployed @project flow's branch (Metaflow's names: user.<deployer>, test.<branch>, prod,
# prod.<branch>), fixed at deploy time. Every deployment has a production token, so the token
# says nothing about the branch; this does.
PROJECT_BRANCH = "SFNCOMPILE_PROJECT_BRANCH"

# Dynamic: set by the state machine's ContainerOverrides per task (contract §2).
RUN_ID = "SFNCOMPILE_RUN_ID"
INDEX_PATH = "SFNCOMPILE_INDEX_PATH"
RETRY_COUNT = "SFNCOMPILE_RETRY_COUNT"
PARAMETERS = "SFNCOMPILE_PARAMETERS"
FOREACH = "SFNCOMPILE_FOREACH"
CAUGHT_ERROR = "SFNCOMPILE_CAUGHT_ERROR"

# Local runs only (the executor's own environment, which local tasks inherit): Metaflow's
# --max-num-splits safety cap on a foreach's width. Unset on AWS: no cap.
MAX_NUM_SPLITS = "SFNCOMPILE_MAX_NUM_SPLITS"

# Local runs only: a file descriptor the task inherits from the executor, the read end of a pipe
# whose write end only the executor holds. EOF on it means the executor is gone (even by SIGKILL):
# the task ends its whole process group (runtime/sfncompile_runtime/processes.py).
PARENT_WATCH_FD = "SFNCOMPILE_PARENT_WATCH_FD"

# The datastore root when SFNCOMPILE_DATASTORE is unset (client, CLI configuration).
DEFAULT_DATASTORE = ".sfncompile"

# Set by the bootstrap for the runner: where the code package was unpacked.
PACKAGE_DIR = "SFNCOMPILE_PACKAGE_DIR"
