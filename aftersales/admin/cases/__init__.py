"""After-sales cases on both sites (A-4, A-7, A-10), split by what each part shows:

listing.py  the list merchants work from (columns, search, quick tabs, the empty list, export)
page.py     the read-only case page (fields, header, timeline, evidence, return address)
admins.py   the admins of both sites, composed with the action kit (aftersales/admin/actions.py)
"""

from aftersales.admin.cases.admins import CaseAdmin, PlatformCaseAdmin, WorkbenchCaseAdmin
from aftersales.admin.cases.page import DELAY_VARIANTS, PARTY_LABELS

__all__ = ["DELAY_VARIANTS", "PARTY_LABELS", "CaseAdmin", "PlatformCaseAdmin", "WorkbenchCaseAdmin"]
