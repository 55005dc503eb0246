"""Buttons residents tap about one of their submissions (in status messages, correction
requests and 「申請状況」): postback data ``gt|case|<action>|<submission id>``."""

from procedures.engine.steps import parse_postback, postback

ACTIONS = frozenset({"open", "fix", "reply", "withdraw", "withdraw-yes", "list"})


def case_postback(action: str, submission_id: int | str = "") -> str:
    assert action in ACTIONS  # noqa: S101 - a programming error, never resident input
    return postback("case", action, str(submission_id))


def parse_case_postback(data: str) -> tuple[str, int | None] | None:
    """(action, submission id or None) of a case button; None for any other data."""
    parts = parse_postback(data)
    if not parts or len(parts) != 3 or parts[0] != "case" or parts[1] not in ACTIONS:
        return None
    return parts[1], int(parts[2]) if parts[2].isdigit() else None
