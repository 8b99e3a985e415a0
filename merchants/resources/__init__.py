"""Imports and exports of the catalogue and of shipping (B-1..B-4).

- `ProductResource` — products with their SKUs, a row per SKU (the product's columns repeated; a
  product without SKUs is one row with the SKU columns empty). Natural keys: (shop, 商品ID) and
  (shop, SKU编码), so the same file imported twice changes nothing the second time.
- `ShippingResource` — batch shipping 批量发货: order no, the items' SKU codes (empty: every item not
  yet shipped), carrier, tracking no. The rows go through `merchants.services.ship_many`, the batch
  form of the ship button's `ship()`, so S-1..S-4 apply and a refused row names the rule; a row whose
  items already went out under that same tracking number is skipped (a second import of the same file
  changes nothing).
- `OrderResource` — orders with items and the buyer's address, a row per item, through
  `merchants.services.place_orders` (the batch form of place_order); a second import skips the
  orders it placed and refuses a changed one (merchants/resources/orders.py).

The shop is named by its code (店铺编码): platform staff name it on every row; a member of one shop may
leave it empty. A row naming another shop, or another shop's order or product, is an error (B-4).
"""

from merchants.resources.orders import OrderResource
from merchants.resources.products import ProductResource
from merchants.resources.shipping import ShippingResource

__all__ = ["OrderResource", "ProductResource", "ShippingResource"]
