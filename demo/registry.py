"""The demo's two registries: seeders (`manage.py seed_demo`) and simulator actions (`simulate_demo`, beat).

Each module of HOOK_MODULES registers its own, so a new app's demo is one module and one line here:

    # demo/reviews.py
    from demo.registry import SeedContext, TickContext, register_action, register_seeder

    @register_seeder("reviews.reviews", order=60)      # after orders (30) and cases (50)
    def seed_reviews(ctx: SeedContext) -> dict[str, int]: ...

    @register_action("reviews.buyers_review", order=80)
    def buyers_review(tick: TickContext) -> None: ...

The registries live here, not in the kernel: a hook needs the demo's helpers (`backdated`, the demo shops,
`shop_actors`), and no product app may import the demo or the test tooling it travels in time with. So
every app's demo code lives in this package, and the product apps hold none.

Seeders must be idempotent on their own (skip what exists) and deterministic given `ctx.rng`; everything
goes through the service functions so every row has a real history (`backdated(when)` sets the clock
for a service call that stamps `timezone.now()`). Simulator actions call services through
`tick.attempt(label, service, ...)`, which records a refusal instead of raising.
Demo data only: the logins are weak on purpose and never exist outside `seed_demo`.
"""

from __future__ import annotations

import contextlib
import importlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.models import Merchant, Order

DEFAULT_SIZE = 2000
DEFAULT_SEED = 20240618
MIN_SIZE = 50  # the smallest shop still gets an order in every state

# The modules that register hooks, imported on first use (not at start-up: the demo's imports, time_machine
# among them, stay out of every process that never seeds or simulates).
HOOK_MODULES = ("demo.shops", "demo.orders", "demo.aftersales", "demo.reviews", "demo.tickets", "demo.levels")


@dataclass(frozen=True)
class Hook:
    name: str
    func: Callable
    order: int


DEMO_SEEDERS: dict[str, Hook] = {}
DEMO_ACTIONS: dict[str, Hook] = {}


def register_seeder(name: str, *, order: int) -> Callable:
    """Decorator: `func(ctx: SeedContext) -> dict | None` runs in `seed_demo`, lowest `order` first."""

    def decorate(func: Callable) -> Callable:
        DEMO_SEEDERS[name] = Hook(name, func, order)
        return func

    return decorate


def register_action(name: str, *, order: int) -> Callable:
    """Decorator: `func(tick: TickContext) -> None` runs in every simulator tick, lowest `order` first."""

    def decorate(func: Callable) -> Callable:
        DEMO_ACTIONS[name] = Hook(name, func, order)
        return func

    return decorate


def _load_hooks() -> None:
    for module in HOOK_MODULES:
        importlib.import_module(module)


def _hooks(registry: dict[str, Hook]) -> list[Hook]:
    _load_hooks()
    return sorted(registry.values(), key=lambda hook: (hook.order, hook.name))


# Which shops are the demo's: demo.shops says (it registers its finder with register_shops, as the other
# hook modules register their seeders), so the registry imports none of the modules that register here.
_shop_finders: list[Callable[[], list[Merchant]]] = []


def register_shops(func: Callable[[], list[Merchant]]) -> Callable[[], list[Merchant]]:
    """Decorator: `func() -> list[Merchant]`, the demo shops that exist (demo.shops registers one)."""
    _shop_finders[:] = [func]
    return func


def _demo_shops() -> list[Merchant]:
    _load_hooks()
    return _shop_finders[0]() if _shop_finders else []


@contextlib.contextmanager
def backdated(when: datetime) -> Iterator[None]:
    """Run service calls as if it were `when` (demo seeding only: events stamped with timezone.now())."""
    try:
        import time_machine  # a dev dependency (uv sync installs it); nothing outside the demo travels
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError(_("生成演示数据需要 time-machine（uv sync 会安装开发依赖）。")) from exc
    with time_machine.travel(when, tick=False):
        yield


# --------------------------------------------------------------------------------------------
# Seeding


@dataclass
class SeedContext:
    """What every seeder gets: the size asked for, its own seeded random, the clock, a logger."""

    size: int
    seed: int
    now: datetime
    log: Callable[[str], None] = print
    rng: random.Random = field(default_factory=random.Random)

    def shops(self) -> list[Merchant]:
        return _demo_shops()


def seed(
    *,
    size: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    log: Callable[[str], None] = print,
) -> list[tuple[str, dict]]:
    """Run every registered seeder in order; idempotent (each skips what exists). Returns (name, summary)."""
    if size < MIN_SIZE:
        raise ValueError(_("演示订单数量至少为 %(min)d。") % {"min": MIN_SIZE})
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    results = []
    for hook in _hooks(DEMO_SEEDERS):
        # Each seeder gets its own stream, so adding one never reshuffles another's data.
        ctx = SeedContext(size=size, seed=seed, now=now, log=log, rng=random.Random(f"{seed}:{hook.name}"))
        results.append((hook.name, hook.func(ctx) or {}))
    return results


# --------------------------------------------------------------------------------------------
# The simulator


@dataclass
class TickContext:
    """One tick: the random source, the demo shops, and the report the actions append to."""

    rng: random.Random
    shops: list[Merchant]
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def attempt(self, label: str, service: Callable, *args, **kwargs) -> object | None:
        """Call one service; a rule that refuses it (the state moved meanwhile) is noted, not raised."""
        try:
            result = service(*args, **kwargs)
        except ValidationError as exc:
            self.refused.append(f"{label}：{'；'.join(str(m) for m in exc.messages)}")
            return None
        self.done.append(label)
        return result

    def pick(self, queryset, count: int) -> list:
        ids = list(queryset.values_list("pk", flat=True)[:500])
        chosen = self.rng.sample(ids, k=min(count, len(ids)))
        return list(queryset.model.objects.filter(pk__in=chosen).select_related("merchant").order_by("pk"))

    def orders(self, *statuses: str):
        return Order.objects.filter(merchant__in=self.shops, status__in=statuses).order_by("-placed_at")


@dataclass(frozen=True)
class TickResult:
    done: list[str]
    refused: list[str]

    @property
    def changed(self) -> int:
        return len(self.done)


def simulate_tick(*, rng: random.Random | None = None) -> TickResult:
    """One tick of buyer (and world) activity in the demo shops, every registered action in order."""
    shops = _demo_shops()
    tick = TickContext(rng=rng or random.Random(), shops=shops)
    if not shops:
        tick.refused.append(_("没有演示店铺：请先运行 manage.py seed_demo。"))
        return TickResult(tick.done, tick.refused)
    for hook in _hooks(DEMO_ACTIONS):
        hook.func(tick)
    return TickResult(tick.done, tick.refused)
