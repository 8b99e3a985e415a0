"""Import/export on a scoped admin (STYLE §7): the actor reaches every resource, on both sites.

django-import-export builds a resource with `get_resource_kwargs()` / `get_export_resource_kwargs()` /
`get_import_resource_kwargs()`. Listing its `ExportMixin` before our admin base resolves those to its
own versions, which pass no actor — the resource then scopes as the system. So the kernel's classes put
the actor-passing mixin first, and `MerchantScopedAdmin.__init_subclass__` refuses any subclass whose
resolved hooks are not these, or whose resources are not `MerchantScopedResource`s.
"""

from __future__ import annotations

from import_export.admin import ExportMixin, ImportExportMixin

from merchants.kernel.admin.base import ActorResourceKwargsMixin, MerchantScopedAdmin


class MerchantScopedExportAdmin(ActorResourceKwargsMixin, ExportMixin, MerchantScopedAdmin):
    """A scoped change list with django-import-export's export (…/export/)."""


class MerchantScopedImportExportAdmin(ActorResourceKwargsMixin, ImportExportMixin, MerchantScopedAdmin):
    """A scoped change list with import (…/import/: upload, preview, confirm) and export (…/export/)."""
