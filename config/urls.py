from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.health import healthz

# No /media/ here, in any mode: uploaded files are served only by the protected file view (N-7).
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("files/", include("merchants.kernel.files")),
    path("workbench/", workbench_site.urls),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="workbench:index", permanent=False)),
]
