"""``sfncompile card view|get|list PATHSPEC``: a task's cards from the datastore."""

from __future__ import annotations

import json
import os

import click

from ..diagnostics import UserError

datastore_option = click.option("--datastore", "root", default=None, metavar="ROOT",
                                help="datastore root (a folder or s3://bucket/prefix); default: "
                                     "$SFNCOMPILE_DATASTORE, else ./.sfncompile")


def _filters(f):
    f = click.option("--id", "card_id", default=None, help="only the card with this id")(f)
    f = click.option("--type", "card_type", default=None, help="only cards of this type")(f)
    f = click.option("--hash", "card_hash", default=None, help="only the card whose hash starts with this")(f)
    return f


def _cards(pathspec: str, root: str | None, card_id, card_type, card_hash):
    from sfncompile_runtime import envnames
    from sfncompile_runtime.cards import get_cards
    from sfncompile_runtime.cards.exception import CardException
    from sfncompile_runtime.client import MetaflowNotFound, Step

    if root:
        os.environ[envnames.DATASTORE] = root
    parts = [p for p in pathspec.split("/") if p]
    try:
        if len(parts) == 3:  # Flow/run/step: the step's only task
            tasks = Step(pathspec, _namespace_check=False).tasks()
            if len(tasks) != 1:
                raise UserError(f"step {pathspec} has {len(tasks)} tasks; name one: {pathspec}/TASK_ID")
            target = tasks[0]
        elif len(parts) == 4:
            target = pathspec
        else:
            raise UserError(f"PATHSPEC must be Flow/run_id/step/task_id (or Flow/run_id/step), got {pathspec!r}")
        cards = list(get_cards(target, id=card_id, type=card_type))
    except MetaflowNotFound as exc:
        raise UserError(str(exc))
    except CardException as exc:
        raise UserError(str(exc))
    if card_hash:
        cards = [c for c in cards if c.hash.startswith(card_hash)]
        if not cards:
            raise UserError(f"Card not found in datastore: no card of {pathspec} has a hash starting {card_hash!r}")
    return cards


@click.group()
def card():
    """Cards (HTML reports) of a task: view, get, list."""


@card.command("list")
@click.argument("pathspec")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_filters
@datastore_option
def list_cmd(pathspec, as_json, card_id, card_type, card_hash, root):
    """The cards of PATHSPEC (Flow/run_id/step/task_id)."""
    cards = _cards(pathspec, root, card_id, card_type, card_hash)
    rows = [{"type": c.type, "id": c.id, "hash": c.hash, "path": c.path} for c in cards]
    if as_json:
        click.echo(json.dumps({"pathspec": pathspec, "cards": rows}, indent=2))
        return
    for row in rows:
        click.echo(f"{row['type']:<24} {row['id'] or '-':<16} {row['hash'][:12]}  {row['path']}")


@card.command("get")
@click.argument("pathspec")
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True))
@_filters
@datastore_option
def get_cmd(pathspec, file, card_id, card_type, card_hash, root):
    """Write the card's HTML to FILE (or print it). With several cards, pick one with --id/--type/--hash."""
    cards = _cards(pathspec, root, card_id, card_type, card_hash)
    if len(cards) > 1:
        names = ", ".join(f"{c.type}{'/' + c.id if c.id else ''} ({c.hash[:8]})" for c in cards)
        raise UserError(f"{pathspec} has {len(cards)} cards ({names}); choose one with --id, --type or --hash")
    html = cards[0].get()
    if file:
        with open(file, "w", encoding="utf-8") as out:
            out.write(html)
        click.echo(file, err=True)
    else:
        click.echo(html)


@card.command("view")
@click.argument("pathspec")
@click.option("--no-browser", is_flag=True, help="only print the card's local file")
@_filters
@datastore_option
def view_cmd(pathspec, no_browser, card_id, card_type, card_hash, root):
    """Open the card of PATHSPEC in a browser (prints its local file either way)."""
    import tempfile
    import webbrowser

    cards = _cards(pathspec, root, card_id, card_type, card_hash)
    for item in cards:
        path = item.path
        if path.startswith("s3://"):
            handle, path = tempfile.mkstemp(prefix=f"{item.type}-", suffix=".html")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(item.get())
        click.echo(path)
        if not no_browser and (os.environ.get("DISPLAY") or os.environ.get("BROWSER")):
            webbrowser.open("file://" + os.path.abspath(path))
