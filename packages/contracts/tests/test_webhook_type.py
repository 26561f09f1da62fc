"""The `webhook` task type: its settings, its delivery ids, and that clients cannot submit it."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from taskgate_contracts import describe_settings_error
from taskgate_contracts.builtin import SPECS
from taskgate_contracts.builtin.webhook import WEBHOOK, WebhookSettings, delivery_id
from taskgate_contracts.tasks import environment, load_settings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_it_is_builtin_internal_and_on_a_queue_of_its_own() -> None:
    assert WEBHOOK in SPECS
    assert WEBHOOK.internal
    assert not any(spec.internal for spec in SPECS if spec is not WEBHOOK)
    assert WEBHOOK.queue == "taskgate.webhook"


def test_one_delivery_id_per_task() -> None:
    assert delivery_id("a") == delivery_id("a") != delivery_id("b")


def test_the_settings_read_from_variables() -> None:
    settings = load_settings(
        WebhookSettings,
        {
            "WEBHOOK_ALLOWED_HOSTS": "*.example.com, 127.0.0.1:9000",
            "WEBHOOK_SECRETS": json.dumps({"default": SECRET, "team-a": SECRET}),
            "WEBHOOK_DEADLINE": "60",
        },
    )
    assert settings.webhook_secrets["team-a"].get_secret_value() == SECRET
    assert settings.webhook_deadline == 60
    assert settings.policy.destination("http://127.0.0.1:9000/").port == 9000
    assert "whsec" not in repr(settings)


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"WEBHOOK_SECRETS": "whsec_x"}, "must be a JSON object"),
        ({"WEBHOOK_SECRETS": '{"team-a": "s3cret-value"}'}, "the secret of 'team-a' must be `whsec_`"),
        ({"WEBHOOK_SECRETS": '{"team-a": "whsec_c2hvcnQ="}'}, "24 to 64 random bytes"),
        ({"WEBHOOK_ALLOWED_HOSTS": "hooks.example.com, a..b"}, "'a..b' is not a host"),
        ({"WEBHOOK_TIMEOUT": "60"}, "less than or equal to 30"),
    ],
)
def test_a_wrong_setting_is_named_without_its_secret(variables: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_settings(WebhookSettings, variables)
    described = describe_settings_error(caught.value)  # what a service prints as it refuses to start
    assert described.startswith("invalid setting WEBHOOK_")
    assert problem in described
    assert "s3cret-value" not in described


def test_a_setting_of_a_type_may_be_a_file_of_the_secrets_folder(tmp_path: Path) -> None:
    (tmp_path / "WEBHOOK_SECRETS").write_text(json.dumps({"default": SECRET}) + "\n")
    (tmp_path / "MAX_DELAY").write_text("5")
    read = environment({"MAX_DELAY": "7"}, {}, tmp_path)
    assert read["MAX_DELAY"] == "7"  # `.env` and the environment win over a file
    settings = load_settings(WebhookSettings, read)
    assert settings.webhook_secrets["default"].get_secret_value() == SECRET
