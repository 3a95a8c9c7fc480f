"""The main pages run under the Content Security Policy without a single violation.

Chromium reports each refused inline script, style or eval on the console; htmx's
look-ups on the intake page are driven too, since htmx is what would need eval.
"""

import pytest

from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "clerk": ["/cases/intake/", "/cases/", "/notifications/"],
    "handler": ["/cases/unit/"],
    "leader": ["/cases/mine/"],
    "supervisor": ["/cases/supervision/", "/cases/overdue/"],
}


def test_main_pages_report_no_csp_violation(page, demo_users):
    # given a page that records what Chromium refuses under the policy
    refused = []
    page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: refused.append(f"{page.url}: {error}"))
    # when the login page and each role's main pages are opened
    page.goto("/accounts/login/")
    for username, paths in PAGES.items():
        sign_in(page, username)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
        if username == "clerk":
            # and the intake page's htmx look-ups run (typing an ID asks for the person)
            page.goto("/cases/intake/")
            with page.expect_response(lambda r: "/cases/intake/lookup/" in r.url):
                page.locator("[data-intake-id]").first.fill("110101199003071234")
            with page.expect_response(lambda r: "/cases/intake/repeats/" in r.url):
                page.locator("#id_summary").fill("反映土地补偿问题")
            page.wait_for_load_state("networkidle")
    # then nothing was refused and no script failed
    assert refused == []
