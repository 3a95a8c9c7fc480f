"""The statutory clocks' lengths, units and legal basis, as first installed (DOMAIN.md §2).

Offices edit the rows in the admin afterwards; this table seeds them (the
migration, and the tests after a transactional test truncated the table). A
window (``is_window``) is a right of the unit or the petitioner, not a duty:
it lapses unused and is never escalated or counted (cases/DECISIONS.md).
"""

from typing import NamedTuple


class StatutoryRule(NamedTuple):
    kind: str
    length: int
    unit: str
    legal_basis: str
    is_window: bool = False


STATUTORY_RULES = (
    StatutoryRule("routing", 15, "calendar", "信访工作条例 第二十二条"),
    StatutoryRule("acceptance_notice", 15, "calendar", "信访工作条例 第二十三条"),
    StatutoryRule("objection", 5, "working", "信访工作条例 第二十三条", is_window=True),
    StatutoryRule("reply", 60, "calendar", "信访工作条例 第三十四条"),
    StatutoryRule("review_request", 30, "calendar", "信访工作条例 第三十五条", is_window=True),
    StatutoryRule("review_decision", 30, "calendar", "信访工作条例 第三十五条"),
    StatutoryRule("rereview_request", 30, "calendar", "信访工作条例 第三十六条", is_window=True),
    StatutoryRule("rereview_decision", 30, "calendar", "信访工作条例 第三十六条"),
    # R22 Art.40 sets no answer period for a supervision order; the 2005 regulation's
    # written answer within 30 days (R05 Art.36) is the default the form proposes.
    StatutoryRule("supervision", 30, "calendar", "信访工作条例 第四十条; 信访条例(2005) 第三十六条"),
    # No law sets these: the office's periods (followup/DECISIONS.md F10-F11).
    StatutoryRule("follow_up", 10, "working", "本办规定（回头看）: followup/DECISIONS.md F10"),
    StatutoryRule("follow_up_decision", 5, "working",
                  "本办规定（回头看）: followup/DECISIONS.md F11"),
    # The grid and mediation (mediation/DECISIONS.md M-clocks).
    StatutoryRule("report_ack", 1, "working", "本办规定（网格上报受理）: mediation/DECISIONS.md"),
    StatutoryRule("report_settle", 30, "calendar",
                  "司法部《人民调解工作若干规定》(2002)（一般一个月）"),
    StatutoryRule("mediation", 30, "calendar",
                  "司法部《人民调解工作若干规定》(2002)（一般一个月）"),
    StatutoryRule("confirmation", 30, "calendar", "人民调解法 第三十三条", is_window=True),
    # A term's own deadline sets the day (``days``); this length is the form's proposal.
    StatutoryRule("performance", 30, "calendar", "人民调解法 第三十一条（督促履行）"),
)


def rules_seed(rule_model) -> None:
    """Add the missing rules; mark the windows. Takes the model so a migration can pass its own."""
    for rule in STATUTORY_RULES:
        row, created = rule_model.objects.get_or_create(
            kind=rule.kind, defaults={"length": rule.length, "unit": rule.unit,
                                      "legal_basis": rule.legal_basis,
                                      "is_window": rule.is_window})
        if not created and row.is_window != rule.is_window:
            row.is_window = rule.is_window
            row.save(update_fields=["is_window"])
