from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from merchants.kernel.admin.sites import (
    PlatformLoginForm,
    safe_next_login,
    title_platform_site,
    workbench_site,
)
from merchants.kernel.health import healthz
from reviews.views import product_reviews

# /admin/ is Django's own site: its login gets the same wording and the same `next` rule as the workbench's.
admin.site.login_form = PlatformLoginForm
title_platform_site(admin.site)  # 平台管理, not Django's 站点管理


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon: the site's icon (static/favicon.svg)."""
    return HttpResponseRedirect(static("favicon.svg"))  # at request time: the manifest exists by then


# No /media/ here, in any mode: uploaded files are served only by the protected file view (N-7).
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("files/", include("merchants.kernel.files")),
    path("workbench/", workbench_site.urls),
    path("admin/login/", safe_next_login(admin.site)),
    path("admin/", admin.site.urls),
    # the public review list of a product, as the product page shows it (anyone, no login).
    path("shop/<slug:code>/products/<str:spu>/reviews/", product_reviews, name="product_reviews"),
    path("", RedirectView.as_view(pattern_name="workbench:index", permanent=False)),
]
