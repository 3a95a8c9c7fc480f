"""Issue 9's remaining hardening: demo data only where allowed, health endpoints that
say no more than which check failed, the Content Security Policy, a private .data/."""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from accounts.choices import UnitKind
from accounts.services import org_unit_create

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    # Neither the settings nor the keys `stack.py test` hands us: each call names its own.
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
               and not k.startswith(("PETITIONDESK_FIELD_KEY", "PETITIONDESK_BLIND_INDEX"))}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ,  # noqa: S603
                          capture_output=True, text=True, timeout=120)


PRODUCTION = {"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "xf.example.gov.cn",
              "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
              "REDIS_URL": "redis://127.0.0.1:1/0",
              "PETITIONDESK_FIELD_KEYS": "p1:" + "ab" * 16,
              "PETITIONDESK_BLIND_INDEX_KEY": "cd" * 32,
              "PETITIONDESK_AUDIT_KEYS": "a1:" + "ef" * 32}


# --- Demo data ---------------------------------------------------------------

def test_manage_py_defaults_to_production_which_refuses_to_seed():
    # given no DJANGO_SETTINGS_MODULE at all, as on a production host
    # when `manage.py seed` runs
    result = _run("import sys; sys.argv = ['manage.py', 'seed']; "
                  "import runpy; runpy.run_path('manage.py', run_name='__main__')", **PRODUCTION)
    # then the production settings refuse, before touching any database
    assert result.returncode != 0
    assert "Demo data is not allowed" in result.stderr or "演示数据" in result.stderr, result.stderr


def test_only_local_and_test_settings_allow_demo_data():
    from config.settings import base

    assert base.DEMO_DATA_ALLOWED is False
    assert settings.DEMO_DATA_ALLOWED is True  # the test settings
    local = _run("import django; django.setup(); from django.conf import settings; "
                 "print(settings.DEMO_DATA_ALLOWED)", DJANGO_SETTINGS_MODULE="config.settings.local")
    assert local.stdout.strip() == "True", local.stderr


@pytest.mark.django_db
def test_seed_is_refused_without_the_flag():
    with override_settings(DEMO_DATA_ALLOWED=False), pytest.raises(CommandError):
        call_command("seed")


@pytest.mark.django_db
def test_seed_is_refused_on_a_database_with_another_county(county):
    # given the demo county and a real one beside it
    org_unit_create(name="城南县", kind=UnitKind.COUNTY, code="341199", parent=None)
    # when seed runs, then it refuses and names the foreign unit
    with pytest.raises(CommandError, match="341199"):
        call_command("seed")


@pytest.mark.django_db
def test_seed_still_runs_on_the_demo_county_alone(county):
    call_command("seed", stdout=open(os.devnull, "w"))  # noqa: SIM115


# --- Health ------------------------------------------------------------------

@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_livez_and_healthz_answer_over_plain_http(client):
    # given production's redirect to HTTPS: an ordinary page is redirected
    assert client.get("/accounts/login/").status_code == 301
    # then the probes are answered where they are asked, over plain HTTP
    assert client.get("/livez").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


@pytest.mark.django_db
def test_healthz_names_a_failed_broker_but_not_why(client, caplog):
    # given a broker address where nothing listens (a real refused connection)
    with override_settings(CELERY_BROKER_URL="redis://:hunter2@127.0.0.1:1/0",
                           SECURE_SSL_REDIRECT=True):
        response = client.get("/healthz")
    body = response.content.decode()
    # then the check is named, the reason is only in the log
    assert response.status_code == 503
    assert "broker" in response.json()["down"]
    assert "error" not in body and "127.0.0.1" not in body and "refused" not in body.lower()
    assert any("broker" in r.getMessage() and "refused" in r.getMessage().lower()
               for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_livez_names_a_failed_database_but_not_why(client, caplog):
    # given a database that refuses connections: this process's connection re-pointed
    # at a port where nothing listens
    saved = json.loads(json.dumps(connection.settings_dict, default=str))
    connection.close()
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", "1"
    connection.settings_dict["OPTIONS"] = {
        **connection.settings_dict.get("OPTIONS", {}), "host": "127.0.0.1", "port": "1"}
    try:
        with override_settings(SECURE_SSL_REDIRECT=True):
            live, health = client.get("/livez"), client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(
            HOST=saved["HOST"], PORT=saved["PORT"], OPTIONS=saved.get("OPTIONS", {}))
    # then both say the database is down, and nothing of the exception's text
    assert (live.status_code, health.status_code) == (503, 503)
    assert live.json()["down"] == ["database"]
    assert "database" in health.json()["down"]
    for response in (live, health):
        body = response.content.decode()
        assert "127.0.0.1" not in body and "port" not in body and "error" not in body
    assert any("database" in r.getMessage() and "127.0.0.1" in r.getMessage()
               for r in caplog.records)


def test_the_database_connection_times_out():
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5


# --- Content Security Policy ----------------------------------------------------

@pytest.mark.django_db
def test_pages_carry_the_content_security_policy(client, clerk):
    for response in (client.get("/accounts/login/"),
                     client.force_login(clerk) or client.get("/cases/intake/")):
        policy = response.headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                          "img-src 'self' data:", "object-src 'none'", "base-uri 'self'",
                          "frame-ancestors 'none'", "form-action 'self'"):
            assert directive in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "'sha256-" in policy  # the error page's own style


INLINE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "on*= handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on (needs eval)": re.compile(r"\bhx-on", re.I),
    "hx-trigger filter (needs eval)": re.compile(r"hx-trigger=\"[^\"]*\["),
    "js: in hx-vals (needs eval)": re.compile(r"hx-vals=['\"]\s*js:"),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
}


# The one inline style allowed, by its hash: the self-contained server error page.
ERROR_PAGE = TEMPLATES / "500.html"


def test_the_error_pages_style_is_allowed_by_its_hash():
    import base64
    import hashlib

    style = re.search(r"<style>(.*?)</style>", ERROR_PAGE.read_text(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]


def test_no_template_has_inline_script_or_style():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        if template == ERROR_PAGE:
            text = re.sub(r"<style>.*?</style>", "", text, count=1, flags=re.S)
        for what, pattern in INLINE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert found == []


# --- The local stack's data folder ------------------------------------------------

def test_local_settings_debug_only_on_the_embedded_database(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG)")
    common = {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "true",
              "PETITIONDESK_DATA_DIR": str(tmp_path)}
    other = _run(code, **common, DATABASE_URL="postgres://app@db.example:5432/petitiondesk")
    embedded = _run(code, **common,
                    DATABASE_URL=f"postgres://postgres@/petitiondesk?host={tmp_path / 'pg'}")
    assert (other.stdout.strip(), embedded.stdout.strip()) == ("False", "True"), (
        other.stderr + embedded.stderr)


def test_stack_keeps_data_private_and_gives_redis_a_password(tmp_path):
    # given a fresh data folder with an upload left readable by others
    media = tmp_path / "media" / "2026"
    media.mkdir(parents=True)
    (media / "letter.pdf").write_bytes(b"%PDF")
    (media / "letter.pdf").chmod(0o644)
    tmp_path.joinpath("media").chmod(0o755)
    # when the stack prepares it and writes the Redis config
    result = _run("import sys; sys.path.insert(0, 'scripts'); import stack; "
                  "stack.data_dir_secure(); stack.redis_command(); print(stack.redis_url(1))",
                  PETITIONDESK_DATA_DIR=str(tmp_path), MEDIA_ROOT="")
    assert result.returncode == 0, result.stderr

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    # then only the owner reads anything (as root, others may only pass through to
    # .data/pg); the Redis password is in a 0600 file and in the URL
    assert mode(tmp_path) == (0o711 if os.geteuid() == 0 else 0o700)
    assert mode(tmp_path / "media") == 0o700 and mode(media / "letter.pdf") == 0o600
    password = (tmp_path / "redis-password").read_text().strip()
    assert len(password) >= 32 and mode(tmp_path / "redis-password") == 0o600
    assert f"requirepass {password}" in (tmp_path / "redis" / "redis.conf").read_text()
    assert mode(tmp_path / "redis" / "redis.conf") == 0o600
    assert result.stdout.strip().startswith(f"redis://:{password}@127.0.0.1:")
