"""The statutory clock lengths (DOMAIN.md §2); offices may edit them in admin."""

from django.db import migrations

RULES = [
    ("routing", 15, "calendar", "信访工作条例 第二十二条"),
    ("acceptance_notice", 15, "calendar", "信访工作条例 第二十三条"),
    ("objection", 5, "working", "信访工作条例 第二十三条"),
    ("reply", 60, "calendar", "信访工作条例 第三十四条"),
    ("review_request", 30, "calendar", "信访工作条例 第三十五条"),
    ("review_decision", 30, "calendar", "信访工作条例 第三十五条"),
    ("rereview_request", 30, "calendar", "信访工作条例 第三十六条"),
    ("rereview_decision", 30, "calendar", "信访工作条例 第三十六条"),
]


def add_rules(apps, schema_editor):
    DeadlineRule = apps.get_model("cases", "DeadlineRule")
    for kind, length, unit, basis in RULES:
        DeadlineRule.objects.get_or_create(
            kind=kind, defaults={"length": length, "unit": unit, "legal_basis": basis})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
