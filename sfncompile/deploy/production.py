"""Production tokens: who may redeploy a flow (Metaflow's model).

The first deploy of a deployment (one flow stack) mints a token; it is kept
on the stack as a tag and in the deployer's token file
(``$SFNCOMPILE_HOME/tokens.json``, default ``~/.sfncompile``). A later deploy
from someone without the token in their file must pass ``--authorize TOKEN``;
that is how a deployment changes hands. Runs of the deployment are in the
namespace ``production:<token>``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ..diagnostics import UserError

TOKEN_TAG = "sfncompile:production_token"
DEPLOYER_TAG = "sfncompile:deployer"
# A @project deployment's project name and branch (user.<deployer>, test.<b>, prod, prod.<b>).
PROJECT_TAG = "sfncompile:project"
BRANCH_TAG = "sfncompile:project_branch"


def home() -> Path:
    return Path(os.environ.get("SFNCOMPILE_HOME") or Path.home() / ".sfncompile")


def _token_file() -> Path:
    return home() / "tokens.json"


def _known() -> dict[str, str]:
    try:
        return json.loads(_token_file().read_text())
    except (OSError, ValueError):
        return {}


def remember(deployment: str, token: str) -> None:
    known = _known()
    known[deployment] = token
    path = _token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=2, sort_keys=True))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def new_token(flow_name: str) -> str:
    return f"{flow_name.lower()}-{secrets.token_hex(6)}"


def resolve_token(deployment: str, flow_name: str, existing_tags: dict[str, str] | None,
                  authorize: str | None) -> tuple[str, bool]:
    """(token, is_new). Raises when the deployment belongs to someone else."""
    current = (existing_tags or {}).get(TOKEN_TAG)
    if not current or current == "none":
        if authorize:
            raise UserError(f"--authorize: {deployment} is not deployed yet, there is nothing to take over")
        return new_token(flow_name), True
    if authorize is not None:
        if authorize != current:
            raise UserError(f"--authorize: the token does not match {deployment}'s production token")
        return current, False
    if _known().get(deployment) == current:
        return current, False
    owner = (existing_tags or {}).get(DEPLOYER_TAG, "someone else")
    raise UserError(f"{deployment} was deployed by {owner} with a production token you do not have; "
                    f"pass --authorize TOKEN (the deployer sees it in 'sfncompile deploy' output) to take it over")


def namespace(token: str) -> str:
    return f"production:{token}"
