"""@card end to end: a local run renders the cards in the task, get_cards and the
``card`` CLI read them back; a failing or slow card never fails its task."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SFNCOMPILE = [sys.executable, "-m", "sfncompile.cli.main"]

FLOW = '''
from metaflow import FlowSpec, Parameter, card, current, step
from metaflow.cards import Image, Markdown, Table, get_cards
import base64

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABRDE8UwAAAABJRU5ErkJggg==")


class CardsFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @card
    @card(type="blank", id="notes")
    @step
    def start(self):
        self.numbers = [1, 2]
        current.card["notes"].append(Markdown("# Report <script>alert(1)</script>"))
        current.card["notes"].append(Table([[1, "<b>bold?</b>"], [2, Image(PNG, label="dot")]], headers=["n", "v"]))
        current.card.append(Markdown("appended to the default card"))
        self.next(self.broken)

    @card(type="test_error_card")
    @card(type="test_timeout_card", timeout=1, options={"timeout": 30}, save_errors=False)
    @step
    def broken(self):
        self.next(self.end)

    @card(type="test_pathspec_card")
    @step
    def end(self):
        self.mine = current.pathspec


if __name__ == "__main__":
    CardsFlow()
'''


@pytest.fixture(scope="module")
def cards_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cards")
    flow = root / "cards_flow.py"
    flow.write_text(FLOW)
    store = root / "store"
    env = dict(os.environ, SFNCOMPILE_DATASTORE=str(store))
    done = subprocess.run(SFNCOMPILE + ["run", str(flow), "--datastore", str(store)], capture_output=True,
                          text=True, env=env, cwd=root, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return store, done.stdout.strip().splitlines()[-1]


@pytest.fixture
def client_root(cards_run, monkeypatch):
    store, run_id = cards_run
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(store))
    return store, run_id


def test_default_and_blank_cards_are_rendered_and_listed(client_root):
    from sfncompile_runtime.cards import get_cards

    _, run_id = client_root
    cards = get_cards(f"CardsFlow/{run_id}/start/1")
    assert sorted((c.type, c.id) for c in cards) == [("blank", "notes"), ("default", None)]
    notes = get_cards(f"CardsFlow/{run_id}/start/1", id="notes")[0]
    html = notes.get()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "data:image/png;base64," in html and "<th>n</th>" in html
    default = get_cards(f"CardsFlow/{run_id}/start/1", type="default")[0].get()
    for expected in ("numbers", "alpha", "[1, 2]", "appended to the default card", "mf-dag"):
        assert expected in default
    assert "http://" not in default.replace("http://www.w3.org/2000/svg", "")  # self-contained
    assert notes.path.endswith(notes.key.rsplit("/", 1)[-1]) and notes.hash in notes.path


def test_a_failing_card_becomes_an_error_card_and_a_slow_one_is_dropped(client_root):
    from sfncompile_runtime.cards import get_cards
    from sfncompile_runtime.client import Run

    _, run_id = client_root
    assert Run(f"CardsFlow/{run_id}", _namespace_check=False)["broken"].task.successful
    cards = get_cards(f"CardsFlow/{run_id}/broken/2")
    assert [c.type for c in cards] == ["test_error_card"]  # the timed-out card had save_errors=False
    assert "Unknown Things Happened" in cards[0].get()


def test_card_content_and_missing_cards(client_root):
    from sfncompile_runtime.cards import get_cards
    from sfncompile_runtime.cards.exception import CardNotPresentException
    from sfncompile_runtime.client import Run

    _, run_id = client_root
    end = Run(f"CardsFlow/{run_id}", _namespace_check=False)["end"].task
    assert end.id == "3"  # start 1, broken 2, end 3
    card = get_cards(end, type="test_pathspec_card")[0]
    assert card.get().startswith(end.data.mine + " ")
    with pytest.raises(CardNotPresentException):
        get_cards(end, type="default")
    with pytest.raises(CardNotPresentException):
        get_cards(f"CardsFlow/{run_id}/start/1", id="nope")


def test_card_cli_lists_gets_and_views(client_root, tmp_path):
    store, run_id = client_root
    listed = subprocess.run(SFNCOMPILE + ["card", "list", f"CardsFlow/{run_id}/start/1", "--json",
                                          "--datastore", str(store)], capture_output=True, text=True, check=True)
    assert '"notes"' in listed.stdout
    out = tmp_path / "notes.html"
    subprocess.run(SFNCOMPILE + ["card", "get", f"CardsFlow/{run_id}/start/1", str(out), "--id", "notes",
                                "--datastore", str(store)], check=True, capture_output=True)
    assert "Report" in out.read_text()
    ambiguous = subprocess.run(SFNCOMPILE + ["card", "get", f"CardsFlow/{run_id}/start/1", "--datastore", str(store)],
                               capture_output=True, text=True)
    assert ambiguous.returncode == 1 and "choose one with --id" in ambiguous.stderr
    missing = subprocess.run(SFNCOMPILE + ["card", "view", f"CardsFlow/{run_id}/end/3", "--type", "blank",
                                           "--datastore", str(store)], capture_output=True, text=True)
    assert missing.returncode == 1 and "Card not found in datastore" in missing.stderr
    assert "Traceback" not in missing.stderr
    viewed = subprocess.run(SFNCOMPILE + ["card", "view", f"CardsFlow/{run_id}/end/3", "--no-browser",
                                          "--datastore", str(store)], capture_output=True, text=True, check=True)
    assert os.path.exists(viewed.stdout.strip())


def test_a_damaged_or_linked_card_reads_as_empty_with_a_warning(cards_run, tmp_path, monkeypatch, capsys):
    import shutil

    from sfncompile_runtime.cards import get_cards

    store, run_id = cards_run
    copy = tmp_path / "store"
    shutil.copytree(store, copy, symlinks=True)
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(copy))
    from sfncompile_runtime import client

    client.reset()  # read the copy
    notes = get_cards(f"CardsFlow/{run_id}/start/1", id="notes")[0]
    html = copy / notes.key
    os.unlink(html)
    os.symlink("/etc/passwd", html)  # the datastore never writes a link: not followed
    data = html.with_name(html.name[: -len(".html")] + ".data.json")
    data.write_text("{not json")
    assert notes.get() == ""
    assert notes.get_data() is None
    err = capsys.readouterr().err
    assert str(html) in err and str(data) in err
