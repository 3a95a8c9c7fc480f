"""PostgreSQL for the test runner alone: a transactional test's flush passes the audit triggers.

A transactional test (the browser and real-worker tests) ends by TRUNCATE-ing every
table, and the audit tables refuse TRUNCATE (accounts/migrations/0005). The flush runs
with ``session_replication_role = replica``, under which ordinary triggers do not fire;
only a superuser may set it, which the test runner's role is (it creates databases) and
the application's runtime role never is. Named in config/settings/test.py only.
"""

from django.db import transaction
from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        with (transaction.atomic(using=self.connection.alias,
                                 savepoint=self.connection.features.can_rollback_ddl),
              self.connection.cursor() as cursor):
            cursor.execute("SET LOCAL session_replication_role = replica")
            for statement in sql_list:
                cursor.execute(statement)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
