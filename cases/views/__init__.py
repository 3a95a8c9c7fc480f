"""The case pages, by who uses them: parse the request, ask a selector or a service, render.

No rule lives here: permissions come from ``accounts.permissions``, steps from
``cases.services``, reads from ``cases.selectors``.
"""

from .case_page import attachment_download, case_detail, identity_reveal
from .intake import intake, petitioner_lookup, repeat_candidates_view
from .lists import case_list_view
from .notices import notice
from .overdue import overdue_audit, overdue_export
from .steps import step
from .supervision import supervision
from .workspaces import my_cases, unit_cases

__all__ = ["attachment_download", "case_detail", "case_list_view", "identity_reveal", "intake",
           "my_cases", "notice", "overdue_audit", "overdue_export", "petitioner_lookup",
           "repeat_candidates_view", "step", "supervision", "unit_cases"]
