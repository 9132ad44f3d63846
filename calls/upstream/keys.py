"""Every namespace the dashboard keeps in the Django cache, in one place.

The strings are part of a deployment's state: changing one turns the cache cold for that kind of
entry (the README's upgrade notes say when a release does so).
"""

# Cached Truedy answers (``Entry`` envelopes: calls.upstream.cache), list pages and totals.
CACHE_PREFIX = "truedy:v2"
# The shared cool-down and circuit breaker (calls.upstream.resilience).
UPSTREAM_PREFIX = "truedy:v1:upstream"
# The health check's own write-and-read probe (calls.views.health).
HEALTH_PREFIX = "truedy:v1:healthz:"
# Who has recently been audited seeing which call (calls.services.audit).
AUDIT_SEEN_PREFIX = "truedy:v1:audit-seen"
# Failed sign-ins per client address (calls.views.sign_in).
SIGN_IN_FAILURES_PREFIX = "truedy:v1:sign-in-failures"
# Who is reviewing which call right now: a short claim per call (calls.services.review_queue).
REVIEW_CLAIM_PREFIX = "truedy:v1:review-claim"
# The call ids of a review queue, read once when it starts (calls.services.review_queue).
REVIEW_QUEUE_PREFIX = "truedy:v1:review-queue"
# A transcript's turns with personal data masked, by a digest of the turns and of the detector
# (calls.services.personal_data): masked text only, never an original.
MASKED_TURNS_PREFIX = "truedy:v1:masked-turns"
# Rendered pieces of pages (a list's rows), keyed by a digest of everything they show, and the
# generation counter every review-work or archive write bumps (calls.services.page_cache).
PAGE_CACHE_PREFIX = "truedy:v1:page-cache"
