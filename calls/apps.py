from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Truedy calls"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_save

        from calls import checks  # noqa: F401 checks registers itself
        from calls.background import scoring
        from calls.models import ArchivedCall
        from calls.services import audit, page_cache
        from calls.views import sign_in

        # Every authentication event goes in the audit log (ASVS 16.3.1).
        user_logged_in.connect(audit.on_sign_in, dispatch_uid="calls.audit.sign_in")
        user_logged_out.connect(audit.on_sign_out, dispatch_uid="calls.audit.sign_out")
        user_login_failed.connect(audit.on_sign_in_failed, dispatch_uid="calls.audit.failed")
        user_login_failed.connect(sign_in.count_failure, dispatch_uid="calls.sign_in.failed")
        # Every call the archive stores gets its automatic scorecard scores (README, "Scorecards").
        post_save.connect(
            scoring.on_archived_call_saved,
            sender=ArchivedCall,
            dispatch_uid="calls.scoring.archived_call_saved",
        )
        # A verdict or correction shows on cached list rows at once (README, "Faster pages").
        page_cache.connect_signals()
