import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_logs_in_sees_the_navigation_and_logs_out(
    page, live_server, django_user_model, screenshot
):
    django_user_model.objects.create_user("bob", "bob@example.com", "correct-horse-42")

    page.goto(f"{live_server.url}/runs/")
    assert "/login/" in page.url  # anonymous visitors are sent to the login form

    page.fill("#id_username", "bob")
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/runs/")

    nav = page.locator("nav.mainnav")
    assert nav.get_by_role("link", name="Runs").is_visible()
    assert nav.get_by_role("link", name="New sweep").is_visible()
    assert nav.get_by_role("link", name="Cache").is_visible()
    assert nav.get_by_role("link", name="Admin").count() == 0  # bob is not staff
    screenshot(page, "runs-after-login")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url


def test_a_wrong_password_shows_an_error_and_no_navigation(page, live_server, django_user_model):
    django_user_model.objects.create_user("bob", "bob@example.com", "correct-horse-42")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "bob")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text().startswith("Your username and password didn't match")
    assert page.locator("nav.mainnav").count() == 0


def test_staff_see_the_admin_link(logged_in_page):
    assert logged_in_page.locator("nav.mainnav").get_by_role("link", name="Admin").is_visible()
