"""pg_trgm and a trigram index on the facts, for repeat detection by similar text (issue 7).

pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner may create it.
It finds nothing in a database whose LC_CTYPE is plain C: check cases.E001 says so.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('cases', '0011_notices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name='case',
            index=django.contrib.postgres.indexes.GinIndex(fields=['summary'], name='case_summary_trgm', opclasses=['gin_trgm_ops']),
        ),
    ]
