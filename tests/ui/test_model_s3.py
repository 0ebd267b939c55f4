"""The UI and get_cards over an S3 datastore (moto): what a deployed flow's runs look like."""

from __future__ import annotations

import boto3
from click.testing import CliRunner

BUCKET = "sfn-ui-datastore"
TABLE = "sfn-ui-side-channel"

FLOW = '''
from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown


class S3CardFlow(FlowSpec):
    @card(type="blank")
    @step
    def start(self):
        self.answer = 42
        print("log line on s3 <b>")
        current.card.append(Markdown("# on S3"))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    S3CardFlow()
'''


def test_ui_pages_and_cards_on_s3(aws, tmp_path, monkeypatch):
    from sfncompile.cli.main import cli
    from sfncompile.ui.server import App

    monkeypatch.setenv("SFNCOMPILE_CODE_CACHE", str(tmp_path / "code-cache"))
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    flow = tmp_path / "s3_card_flow.py"
    flow.write_text(FLOW)
    root = f"s3://{BUCKET}/store"
    result = CliRunner().invoke(cli, ["run", str(flow), "--datastore", root, "--side-channel-table", TABLE], catch_exceptions=False)
    assert result.exit_code == 0, result.output + (result.stderr or "")
    run_id = result.stdout.strip().splitlines()[-1]

    monkeypatch.setenv("SFNCOMPILE_DATASTORE", root)
    from sfncompile_runtime.cards import get_cards

    card = get_cards(f"S3CardFlow/{run_id}/start/1")[0]
    assert card.path.startswith(f"s3://{BUCKET}/store/S3CardFlow/runs/{run_id}/start/1/0/cards/blank-")
    assert "<h1>on S3</h1>" in card.get()

    app = App(root)
    status, _, body, _ = app.handle(f"/S3CardFlow/{run_id}", {})
    assert status == 200 and "succeeded" in body.decode()
    status, _, body, _ = app.handle(f"/S3CardFlow/{run_id}/start/1", {})
    page = body.decode()
    assert "log line on s3 &lt;b&gt;" in page and f"/_card/{card.hash}" in page and ">42<" in page
    status, ctype, body, headers = app.handle(f"/S3CardFlow/{run_id}/start/1/_card/{card.hash}", {})
    assert status == 200 and b"on S3" in body and headers["Content-Security-Policy"].startswith("sandbox")
    status, _, body, _ = app.handle("/", {})
    assert "S3CardFlow" in body.decode()
