"""``argus outbox list|send`` for operators: numbers masked, clear exit codes."""

import json

from typer.testing import CliRunner

from argus.cli import app
from argus.settings import load_settings
from argus.storage.db import engine_for
from tests.argus.sending.seed import phone, seed_alert

runner = CliRunner()


def test_outbox_list_masks_numbers(argus_env):
    seed_alert(engine_for(load_settings().resolved_database_url), subscribers=2)

    result = runner.invoke(app, ["outbox", "list"])

    assert result.exit_code == 0, result.output
    assert "queued 2" in result.output
    assert phone(0) not in result.output
    assert "+91…00" in result.output


def test_outbox_send_through_twilio(twilio_env):
    seed_alert(engine_for(load_settings().resolved_database_url), subscribers=2)

    sent = runner.invoke(app, ["outbox", "send", "--json"])
    listed = runner.invoke(app, ["outbox", "list", "--status", "sent", "--json"])

    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output)["sent"] == 2
    rows = json.loads(listed.output)["rows"]
    assert [row["status"] for row in rows] == ["sent", "sent"]
    assert len(twilio_env.state.accepted) == 2


def test_outbox_list_rejects_unknown_status(argus_env):
    result = runner.invoke(app, ["outbox", "list", "--status", "lost"])

    assert result.exit_code == 2
    assert "--status 'lost' is unknown" in result.output
