"""`sahay templates push` against a local stand-in of Twilio's Content API: every built
template created once, the check-ins sent for WhatsApp approval, the gateway's files
written; a second push changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels.content_templates import MANIFEST, build_all
from bot.channels.template_push import CONTENT_SIDS_FILE, FOLLOWUP_SIDS_FILE
from bot.cli import main
from bot.core.config import get_settings
from bot.language import LANGUAGES
from tests.fake_twilio import FakeTwilio, fake_twilio


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> FakeTwilio:
    with fake_twilio() as stand_in:
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", "a-real-looking-token-" + "7" * 11)
        monkeypatch.setenv("TWILIO_API_BASE_URL", stand_in.url)
        get_settings.cache_clear()
        yield stand_in


def creations(twilio: FakeTwilio) -> list[dict[str, object]]:
    return [body for method, path, body in twilio.content_requests if path == "/v1/Content"]


def approvals(twilio: FakeTwilio) -> list[tuple[str, dict[str, str]]]:
    return [
        (path, body)
        for method, path, body in twilio.content_requests
        if path.endswith("/ApprovalRequests/whatsapp")
    ]


def test_push_creates_every_template_once_and_submits_the_checkins(
    twilio: FakeTwilio, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = build_all(tmp_path)
    assert main(["templates", "push", "--dir", str(tmp_path)]) == 0, capsys.readouterr().err

    created = creations(twilio)
    assert len(created) == len(written) == len(twilio.contents)
    # Exactly the built definitions went out (the client adds only empty types).
    by_name = {body["friendly_name"]: body for body in created}  # type: ignore[index]
    for path in written:
        built = json.loads(path.read_text(encoding="utf-8"))
        sent = by_name[built["friendly_name"]]
        assert {k: v for k, v in sent["types"].items() if v is not None} == built["types"]  # type: ignore[union-attr]
        assert (sent["language"], sent["variables"]) == (built["language"], built["variables"])

    submitted = approvals(twilio)
    assert len(submitted) == 2 * len(LANGUAGES)  # reached and helped, in every language
    assert {body["category"] for _, body in submitted} == {"UTILITY"}
    names = {body["name"] for _, body in submitted}
    assert "sahay_checkin_reached_hi" in names and "sahay_checkin_helped_ta" in names

    menus = json.loads((tmp_path / CONTENT_SIDS_FILE).read_text())
    followups = json.loads((tmp_path / FOLLOWUP_SIDS_FILE).read_text())
    assert set(followups) == {"reached", "helped"} and set(followups["reached"]) == set(LANGUAGES)
    assert len(menus["utter_language_menu"]["en"]) == 2  # two list pages
    frequency = twilio.contents[menus["screening_frequency"]["hi"]]
    assert frequency["friendly_name"] == "sahay_screening_frequency_hi"
    checkin = twilio.contents[followups["helped"]["bn"]]
    assert checkin["approval_requests"]["status"] == "received"
    assert "{{1}}" in checkin["types"]["twilio/quick-reply"]["body"]
    out = capsys.readouterr().out
    assert f"created {len(written)}, already there 0" in out
    assert str(tmp_path / CONTENT_SIDS_FILE) in out

    # Again: nothing is created or submitted twice, and the files say the same.
    assert main(["templates", "push", "--dir", str(tmp_path)]) == 0
    assert len(creations(twilio)) == len(written)
    assert len(approvals(twilio)) == 2 * len(LANGUAGES)
    assert json.loads((tmp_path / CONTENT_SIDS_FILE).read_text()) == menus
    assert "created 0, already there" in capsys.readouterr().out


def test_a_partly_pushed_build_is_completed(twilio: FakeTwilio, tmp_path: Path) -> None:
    build_all(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    everything = manifest["templates"]
    (tmp_path / MANIFEST).write_text(json.dumps({"templates": everything[:5]}))
    assert main(["templates", "push", "--dir", str(tmp_path)]) == 0
    (tmp_path / MANIFEST).write_text(json.dumps({"templates": everything}))
    assert main(["templates", "push", "--dir", str(tmp_path)]) == 0
    names = [body["friendly_name"] for body in creations(twilio)]  # type: ignore[index]
    assert len(names) == len(set(names)) == len(everything)


def test_a_refusal_or_a_missing_build_is_a_clear_error(
    twilio: FakeTwilio, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["templates", "push", "--dir", str(tmp_path)]) == 2
    assert "run `sahay templates build` first" in capsys.readouterr().err
    build_all(tmp_path)
    twilio.fail_with = 400
    assert main(["templates", "push", "--dir", str(tmp_path)]) == 2
    assert "Twilio refused" in capsys.readouterr().err


def test_the_stand_in_refuses_what_twilio_refuses(twilio: FakeTwilio) -> None:
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest.content.v1.content import ContentList

    from bot.outbound import twilio_client

    client = twilio_client(get_settings())
    too_long = {
        "friendly_name": "x",
        "language": "en",
        "types": {
            "twilio/quick-reply": {
                "body": "Pick",
                "actions": [{"title": "A title far longer than twenty", "id": "/a"}],
            }
        },
    }
    with pytest.raises(TwilioRestException) as refused:
        client.content.v1.contents.create(ContentList.ContentCreateRequest(too_long))
    assert refused.value.status == 400
