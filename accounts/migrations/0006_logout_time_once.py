"""The sign-out time of a login is set once: a time already written stays (issue 9).

0005 let the runtime role write ``logout_time`` whatever it held, so a sign-out could be
moved or wiped after the fact. Now only NULL becomes a time; the rest is refused as any
other change of an audit row.
"""

from django.db import migrations

ONCE = """
CREATE OR REPLACE FUNCTION audit_only_logout_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'logout_time') IS DISTINCT FROM (to_jsonb(OLD) - 'logout_time')
       OR (OLD.logout_time IS NOT NULL
           AND NEW.logout_time IS DISTINCT FROM OLD.logout_time) THEN
        RAISE EXCEPTION 'audit rows are append-only: UPDATE on % refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
"""
ANY_TIME = """
CREATE OR REPLACE FUNCTION audit_only_logout_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'logout_time') IS DISTINCT FROM (to_jsonb(OLD) - 'logout_time') THEN
        RAISE EXCEPTION 'audit rows are append-only: UPDATE on % refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_audit_append_only"),
    ]

    operations = [migrations.RunSQL(ONCE, ANY_TIME)]
