"""The case core's tables. Rules live where README's architecture section says."""

from .calendar import AnnouncedYear, CalendarDay
from .case import Case, CaseNumberSequence, CasePetitioner, CaseQuerySet
from .clocks import Deadline, DeadlineRule
from .events import CaseEvent
from .handling import Attachment, Decision, Extension, Leadership, Recusal
from .notices import Notice, NoticeKind, NoticeSequence
from .people import Petitioner
from .reference import Category

__all__ = [
    "AnnouncedYear", "Attachment", "CalendarDay", "Case", "CaseEvent", "CaseNumberSequence",
    "CasePetitioner", "CaseQuerySet", "Category", "Deadline", "DeadlineRule", "Decision",
    "Extension", "Leadership", "Notice", "NoticeKind", "NoticeSequence", "Petitioner", "Recusal",
]
