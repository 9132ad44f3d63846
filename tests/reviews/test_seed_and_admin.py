"""Demo logins per role (seed_demo_user) and review work in the admin, read-only."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calls.models import Review
from calls.services import roles

pytestmark = pytest.mark.django_db


def test_seed_demo_user_prints_a_login_per_role(django_user_model, capsys):
    call_command("seed_demo_user", password="a-demo-password-123")
    out = capsys.readouterr().out
    for username, role in (("demo", "Reviewer"), ("reviewer", "Reviewer"), ("viewer", "Viewer")):
        user = django_user_model.objects.get(username=username)
        assert user.is_staff and user.check_password("a-demo-password-123")
        assert roles.role_name(user) == role
        assert f"username {username!r}, password 'a-demo-password-123' ({role})" in out
    assert roles.can_review(django_user_model.objects.get(username="demo"))
    assert not roles.can_review(django_user_model.objects.get(username="viewer"))


def test_seed_demo_user_gives_each_login_its_own_random_password(django_user_model, capsys):
    call_command("seed_demo_user")
    out = capsys.readouterr().out
    passwords = {line.split("password ")[1].split(" ")[0] for line in out.splitlines()}
    assert len(passwords) == 3


def test_seed_demo_user_resets_roles_and_passwords(django_user_model, capsys):
    call_command("seed_demo_user", password="first-password-123")
    call_command("seed_demo_user", password="second-password-123")
    viewer = django_user_model.objects.get(username="viewer")
    assert viewer.check_password("second-password-123")
    assert list(viewer.groups.values_list("name", flat=True)) == ["Viewer"]


def test_seed_demo_user_refuses_on_a_real_account(settings):
    settings.TRUEDY_API_KEY = "truedy_" + "r" * 32
    with pytest.raises(CommandError, match="real Truedy account"):
        call_command("seed_demo_user")


def test_review_work_is_read_only_in_the_admin(admin_client, admin_user):
    review = Review.objects.create(call_id="call_a", verdict="pass", reviewer=admin_user)
    listing = admin_client.get("/admin/calls/review/")
    assert listing.status_code == 200 and "call_a" in listing.content.decode()
    assert admin_client.get(f"/admin/calls/review/{review.pk}/change/").status_code == 200
    assert admin_client.get("/admin/calls/review/add/").status_code == 403
    assert admin_client.post(f"/admin/calls/review/{review.pk}/delete/").status_code == 403
    for model in ("outcomecorrection", "reviewsample", "turnnote"):
        assert admin_client.get(f"/admin/calls/{model}/").status_code == 200
        assert admin_client.get(f"/admin/calls/{model}/add/").status_code == 403
