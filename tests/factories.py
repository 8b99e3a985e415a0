"""factory_boy factories for the shared kernel: users, shops, members, catalog, orders."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from merchants.kernel.scoping import PLATFORM_GROUP
from merchants.kernel.vocabulary import Role
from merchants.models import Membership, Merchant, Order, OrderItem, Package, Product, Sku
from merchants.transitions import Carrier, OrderStatus, PaymentMethod


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PlatformUserFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def platform_group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get_or_create(name=PLATFORM_GROUP)[0])


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"测试店铺{n}")
    code = factory.Sequence(lambda n: f"shop-{n}")
    return_contact = "王店长"
    return_phone = "13800000000"
    return_address = "浙江省杭州市余杭区文一西路 969 号"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.AGENT


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    spu_id = factory.Sequence(lambda n: f"SPU{100000 + n}")
    name = factory.Sequence(lambda n: f"纯棉短袖T恤 {n}号款")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    merchant = factory.SelfAttribute("product.merchant")
    product = factory.SubFactory(ProductFactory)
    sku_code = factory.Sequence(lambda n: f"SKU{200000 + n}")
    spec = "白色 / L"
    price = Decimal("59.00")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order; `items=N` (default 1) adds N items whose amounts add up to paid_amount."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    order_no = factory.Sequence(lambda n: f"O{20261100000000 + n}")
    buyer_id = factory.Sequence(lambda n: f"B{n:06d}")
    buyer_name = "张三"
    buyer_phone = "13812345678"
    payment_method = PaymentMethod.ONLINE
    paid_amount = Decimal("100.00")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    paid_at = factory.LazyAttribute(lambda o: o.placed_at if o.status != OrderStatus.UNPAID else None)
    ship_by = factory.LazyAttribute(lambda o: o.placed_at + timedelta(hours=48))
    status = OrderStatus.TO_SHIP

    @factory.post_generation
    def items(obj, create, extracted, **kwargs):
        if not create:
            return
        count = 1 if extracted is None else extracted
        if not count:
            return
        share = (obj.paid_amount / count).quantize(Decimal("0.01"))
        for i in range(count):
            amount = share if i < count - 1 else obj.paid_amount - share * (count - 1)
            OrderItemFactory(order=obj, paid_amount=amount)


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory, items=0)
    merchant = factory.SelfAttribute("order.merchant")
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"))
    quantity = 1
    paid_amount = Decimal("100.00")


class PackageFactory(factory.django.DjangoModelFactory):
    """A package row (tests of lists and tenancy); shipping itself goes through merchants.services.ship."""

    class Meta:
        model = Package

    merchant = factory.SubFactory(MerchantFactory)
    order = factory.SubFactory(
        OrderFactory, merchant=factory.SelfAttribute("..merchant"), status=OrderStatus.SHIPPED, items=0
    )
    carrier = Carrier.SF
    tracking_no = factory.Sequence(lambda n: f"SF{1000000000 + n}")


class LevelEvaluationFactory(factory.django.DjangoModelFactory):
    """One stored level evaluation (L-2) of a shop, as the daily task writes it."""

    class Meta:
        model = "merchants.LevelEvaluation"

    merchant = factory.SubFactory(MerchantFactory)
    evaluated_on = factory.LazyFunction(timezone.localdate)
    outcome = "unchanged"
    level_before = 1
    level_after = 1
    reason = "unchanged"
    params = factory.LazyFunction(lambda: {"metrics": "cumulative_sales"})
