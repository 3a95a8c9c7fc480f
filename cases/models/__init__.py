"""The case core's tables. Rules live where README's architecture section says."""

from .calendar import AnnouncedYear, CalendarDay
from .case import Case, CaseNumberSequence, CasePetitioner, CaseQuerySet
from .clocks import Deadline, DeadlineRule
from .escalation import Audience, Escalation, LadderAction, LadderStep
from .events import CaseEvent
from .handling import Attachment, Decision, Extension, IntakeUpload, Leadership, Recusal
from .notices import Notice, NoticeKind, NoticeSequence
from .people import Petitioner
from .reference import Category
from .supervision import SupervisionAnswer, SupervisionOrder
from .undertakings import Commitment, Instruction

__all__ = [
    "AnnouncedYear", "Audience", "Escalation", "LadderAction", "LadderStep", "Attachment", "CalendarDay", "Case", "CaseEvent", "CaseNumberSequence",
    "CasePetitioner", "CaseQuerySet", "Category", "Commitment", "Deadline", "DeadlineRule",
    "Decision", "Extension", "Instruction", "IntakeUpload", "Leadership", "Notice", "NoticeKind",
    "NoticeSequence", "Petitioner", "Recusal", "SupervisionAnswer", "SupervisionOrder",
]
