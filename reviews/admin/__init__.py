"""Admin registrations of reviews on both sites.

/workbench/ (shop members): the review list and page (R-2..R-6) with reply, delete reply, pin, unpin and
appeal, all through MerchantScopedAdmin, so rows, URLs and actions stay inside the user's shops.
/admin/ (platform staff): every shop's reviews (read-only), the reply moderation queue (R-2), the appeal
queue (R-3), the banned words and the review settings.
"""

from django.contrib import admin

from merchants.kernel.admin.sites import workbench_site
from reviews import dashboard  # noqa: F401  (registers the home-page cards and sidebar icons)
from reviews.admin.platform import AppealAdmin, BannedWordAdmin, ReplyModerationAdmin, ReviewSettingsAdmin
from reviews.admin.reviews import PlatformReviewAdmin, ReviewAdmin, WorkbenchReviewAdmin
from reviews.models import Appeal, BannedWord, Reply, Review, ReviewSettings

workbench_site.register(Review, WorkbenchReviewAdmin)

admin.site.register(Review, PlatformReviewAdmin)
admin.site.register(Reply, ReplyModerationAdmin)
admin.site.register(Appeal, AppealAdmin)
admin.site.register(BannedWord, BannedWordAdmin)
admin.site.register(ReviewSettings, ReviewSettingsAdmin)

__all__ = ["ReviewAdmin"]
