"""Typed bodies: strict values, published keys, and each failure named by its JSON path and rule."""

from __future__ import annotations

import pytest
from pydantic import Field

from opendip.core.validation import Body, checked, json_path, validation_help
from opendip.errors import DipError
from opendip.governance.schemas import form_assessment


class Webhook(Body):
    callback_url: str = Field(alias="callbackUrl", max_length=20)


class Subscription(Body):
    webhook: Webhook
    count: int | None = Field(None, alias="maxCount", ge=1)
    tags: list[str] = []


def test_paths_read_as_json_paths() -> None:
    assert json_path(("body", "webhook", "callbackUrl")) == "$.webhook.callbackUrl"
    assert json_path(("body", "tags", 2)) == "$.tags[2]"
    assert json_path(("body",)) == "$"
    assert json_path(("query", "limit")) == "query.limit"


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"webhook": {}}, "$.webhook.callbackUrl: required"),
        ({"webhook": {"callbackUrl": "x" * 21}}, "$.webhook.callbackUrl: string should have at most 20 characters"),
        ({"webhook": {"callbackUrl": "u"}, "maxCount": "5"}, "$.maxCount: input should be a valid integer"),
        ({"webhook": {"callbackUrl": "u"}, "maxCount": True}, "$.maxCount: input should be a valid integer"),
        ({"webhook": {"callbackUrl": "u"}, "maxCount": 0}, "$.maxCount: input should be greater than or equal to 1"),
        ({"webhook": {"callbackUrl": "u"}, "tags": ["a", 1]}, "$.tags[1]: input should be a valid string"),
        ({"webhook": {"callbackUrl": "u", "secret": 1}}, "$.webhook.secret: unknown key"),
        ({"webhook": {"callbackUrl": "u"}, "colour": 1}, "$.colour: unknown key; allowed: maxCount, tags, webhook"),
    ],
)
def test_each_refusal_names_the_path_and_the_rule(data: dict[str, object], named: str) -> None:
    with pytest.raises(DipError) as refused:
        checked(Subscription, data)
    assert refused.value.msg.spec.code == "MSG1001"
    assert refused.value.detail.startswith(named), refused.value.detail


def test_every_failure_is_named_and_what_was_sent_is_known() -> None:
    with pytest.raises(DipError) as refused:
        checked(Subscription, {"maxCount": -1, "tags": "a"})
    assert [line.split(":")[0] for line in refused.value.detail.split("; ")] == ["$.webhook", "$.maxCount", "$.tags"]
    made = checked(Subscription, {"webhook": {"callbackUrl": "u"}, "maxCount": None})
    assert made.sent("maxCount") and not made.sent("tags") and made.count is None
    assert validation_help([]) == "$: invalid"


def test_the_portal_form_and_the_api_share_the_assessment_rules() -> None:
    found = form_assessment({"cost_users_gbp": "250,001", "new_obligations": "on"})
    assert (found.cost_users_gbp, found.new_obligations, found.affects_parties) == (250001.0, True, False)
    with pytest.raises(DipError, match=r"\$\.duration_months: input should be greater than or equal to 0"):
        form_assessment({"duration_months": "-3"})
