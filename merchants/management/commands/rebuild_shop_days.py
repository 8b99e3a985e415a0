"""Recompute the daily per-shop order and GMV counts (merchants.ShopDay, L-1/L-4) from the orders."""

from django.core.management.base import BaseCommand

from merchants.services import rebuild_shop_days


class Command(BaseCommand):
    help = "Recompute merchants.ShopDay (daily orders and GMV per shop) from the orders."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", type=int, action="append", help="only this shop id (repeatable)")

    def handle(self, *args, merchant=None, **options):
        written = rebuild_shop_days(merchant_ids=merchant)
        self.stdout.write(f"{written} shop days written")
