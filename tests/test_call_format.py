import pytest

from calls.templatetags.call_format import agent_name, dollars, duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (0, "0:00"),
        (5, "0:05"),
        (65, "1:05"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (7384.9, "2:03:04"),
    ],
)
def test_duration_is_m_ss(seconds, shown):
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (None, ""),
        (0, "$0.00"),
        (7, "$0.07"),
        (1234, "$12.34"),
        (123456, "$1,234.56"),
        (-250, "-$2.50"),
    ],
)
def test_dollars(cents, shown):
    assert dollars(cents) == shown


def test_unknown_agent_shows_its_raw_id():
    assert agent_name("agt_gone", {"agt_a": "Ava"}) == "agt_gone"
    assert agent_name("agt_a", {"agt_a": "Ava"}) == "Ava"
    assert agent_name(None, {}) == ""
