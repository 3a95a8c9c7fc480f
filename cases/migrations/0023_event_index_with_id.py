"""The chain's heads (cases/audit_chain.py) from the index alone: (case, at) gains id."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0022_follow_up_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The new index first: a case's timeline is never without one.
    operations = [
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(fields=['case', 'at', 'id'], name='event_case_at_id'),
        ),
        migrations.RemoveIndex(
            model_name='caseevent',
            name='event_case_at',
        ),
    ]
