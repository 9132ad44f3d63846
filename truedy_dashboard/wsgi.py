import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "truedy_dashboard.settings")
application = get_wsgi_application()

from calls.checks import refuse_to_serve_unless_ready  # noqa: E402 (needs the apps loaded)

refuse_to_serve_unless_ready()
