from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.static import serve

from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.health import healthz
from reviews.views import product_reviews

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("workbench/", workbench_site.urls),
    path("admin/", admin.site.urls),
    # the public review list of a product, as the product page shows it (anyone, no login).
    path("shop/<slug:code>/products/<str:spu>/reviews/", product_reviews, name="product_reviews"),
    path("", RedirectView.as_view(pattern_name="workbench:index", permanent=False)),
]

if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
