"""The three roles as Django groups: Viewer, Reviewer and Admin (README, "Roles").

Browsing needs a staff login (calls.middleware.StaffRequiredMiddleware); every write of review
work needs ``calls.review_calls``, which only Reviewer and Admin grant; Admin also manages
users and their roles in Django admin.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWER_PERMISSIONS = [("calls", "review_calls")]
ADMIN_PERMISSIONS = [
    *REVIEWER_PERMISSIONS,
    *(
        ("auth", f"{action}_{model}")
        for model in ("user", "group")
        for action in ("add", "change", "view")
    ),
    ("calls", "view_auditevent"),
]
ROLES = {"Viewer": [], "Reviewer": REVIEWER_PERMISSIONS, "Admin": ADMIN_PERMISSIONS}


def create_roles(apps, schema_editor):
    # Permissions are made after migrations on a fresh database: make them now.
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("calls", "0004_review_work"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
