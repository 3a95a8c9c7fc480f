"""The clerk signs in, sees the intake home, and signs out, in a real browser."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_logs_in_sees_intake_and_logs_out(page, shot, demo_users):
    # given the login page, in Chinese by default
    page.goto("/")
    page.wait_for_url("**/accounts/login/**")
    shot("01-login")
    # when the clerk signs in
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "demo")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    # then the clerk's own home, intake, with the clerk's name in the top bar
    page.wait_for_url("**/cases/intake/")
    assert "李接待" in page.content()
    assert page.locator("nav a[href='/cases/intake/']").count() >= 1
    shot("02-clerk-home")
    # when the clerk signs out
    page.click("a.dropdown-toggle")
    page.click("form[action='/accounts/logout/'] button")
    # then the login page again, and the intake page is closed to them
    page.wait_for_url("**/accounts/login/**")
    page.goto("/cases/intake/")
    page.wait_for_url("**/accounts/login/**")


def test_phone_width_shows_a_usable_menu(browser, live_server, demo_users):
    context = browser.new_context(viewport={"width": 375, "height": 740}, base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", "demo")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url("**/cases/mine/")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 375  # nothing overflows sideways
