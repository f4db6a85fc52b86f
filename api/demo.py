"""A demo organisation for `make run`: people of every role, ~200 customers, pool, shares, visits,
deals and after-sales, over the months since 1 January of the previous year."""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image

from aggregates.errors import DomainError
from aggregates.organisation import Username
from aggregates.settings import DEFAULT_DICTIONARIES, DEFAULT_RULES, type_names
from aggregates.target import report_period
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import Deps, business_day, load_settings
from commands.bootstrap import Service
from commands.handlers import handle

DEMO_PASSWORD = "demo1234"
DEMO_PEOPLE = [
    # username, name, roles, position
    ("admin", "系统管理员", ["admin"], "管理员"),
    ("manager", "王经理", ["manager"], "销售经理"),
    ("sales1", "张伟", ["sales"], "业务员"),
    ("sales2", "李娜", ["sales"], "业务员"),
    ("sales3", "刘洋", ["sales"], "业务员"),
    ("keeper", "陈库管", ["warehouse"], "库管员"),
    ("auditor", "赵审计", ["auditor"], "审计员"),
]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "沈阳", "苏州", "重庆"]
WORDS = ["华信", "恒通", "博远", "瑞丰", "金诚", "天合", "中科", "宏达", "新纪元", "远景", "明德", "汇智",
         "鼎盛", "嘉禾", "云帆", "启航", "卓越", "同创", "万象", "和泰"]
KINDS = ["科技有限公司", "贸易有限公司", "实业有限公司", "信息技术有限公司", "医疗器械有限公司", "建设集团"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def seed_demo(service: Service) -> bool:
    """Create the demo data when the store has no people yet; returns whether it did.

    Its history starts on 1 January of the previous year: every registration, share, visit,
    claim, deal, invoice, payment, delivery, return and exchange, each month's targets and the
    weekly pool sweeps are recorded at their own moment, in the order they happened, through a
    clock the demo moves forward (the service's clock is back in place when it returns). So the
    year charts and reports show real years, and since the sweeps ran along the way, what a
    salesperson holds at the end respects the pool rules: the first sweep after start returns
    nothing the demo did not mean it to."""
    if service.store.find(Username.id_for(DEMO_PEOPLE[0][0]), Username) is not None:
        return False
    deps = service.deps
    real = deps.clock
    now = real.now()
    local = now.astimezone(ZONE)
    clock = ManualClock(datetime(local.year - 1, 1, 1, 8, 30, tzinfo=ZONE).astimezone(UTC))
    deps.clock = clock
    try:
        _seed(service, clock, now)
    finally:
        deps.clock = real
    return True


ZONE = ZoneInfo(DEFAULT_RULES["timezone"])
# Customers registered long ago (most went back to the pool unless they dealt) and lately.
EARLY_CUSTOMERS, RECENT_CUSTOMERS = 80, 120
FOLLOW_DAYS = DEFAULT_RULES["default_max_follow_days"]


class _Timeline:
    """What the demo does, by moment; run in order with the clock set to each moment."""

    def __init__(self, clock: ManualClock, now: datetime) -> None:
        self.clock, self.now = clock, now
        self.steps: list[tuple[datetime, int, Callable[[], None]]] = []

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        # Nothing after the present: the last steps happen a minute before it at the latest.
        self.steps.append((min(moment, self.now - timedelta(minutes=1)), len(self.steps), action))

    def run(self) -> None:
        for moment, _, action in sorted(self.steps, key=lambda step: (step[0], step[1])):
            self.clock.set(moment)
            action()
        self.steps.clear()


def _working_moment(rng: random.Random, low: datetime, high: datetime) -> datetime:
    """A moment between the two, in the business day's working hours (09:00–18:00)."""
    day = low + (high - low) * rng.random()
    local = day.astimezone(ZONE).replace(hour=9, minute=0, second=0, microsecond=0)
    return (local + timedelta(minutes=rng.randint(0, 540))).astimezone(UTC)


def _seed(service: Service, clock: ManualClock, now: datetime) -> None:
    deps = service.deps
    rng = random.Random(2026)
    places = random.Random(2027)  # where customers are and photos were taken, apart from `rng`
    start = clock.now()
    system = Actor("system", "system", frozenset({"admin"}), None)
    dept = handle(m.CreateDepartment(name="销售部"), system, deps).ids["id"]
    east = handle(m.CreateDepartment(name="华东销售组", parent_id=dept), system, deps).ids["id"]
    ids: dict[str, str] = {}
    for username, name, roles, position in DEMO_PEOPLE:
        department = east if "sales" in roles else dept
        ids[username] = handle(
            m.CreatePerson(name=name, username=username, password=DEMO_PASSWORD, roles=roles,
                            department_id=department, position=position,
                            max_customers=80 if "sales" in roles else None),
            system, deps,
        ).ids["id"]
    handle(m.ChangeDepartment(dept, {"manager_ids": [ids["manager"]]}), system, deps)
    sales = [Actor(ids[u], u, frozenset({"sales"}), east) for u in ("sales1", "sales2", "sales3")]
    keeper = Actor(ids["keeper"], "keeper", frozenset({"warehouse"}), dept)
    types = type_names(DEFAULT_DICTIONARIES["customer_types"])
    # Seed 000 §2 (杜绝编造、补录): the demo organisation's visits carry their photo.
    handle(m.ChangeSettings(rules={"visit_photo_required": True}, dictionaries={}), system, deps)
    products = seed_products(service, keeper, system)

    timeline = _Timeline(clock, now)
    early_end, recent_start = now - timedelta(days=FOLLOW_DAYS + 10), now - timedelta(days=FOLLOW_DAYS - 5)
    moments = sorted([_working_moment(rng, start + timedelta(days=2), early_end) for _ in range(EARLY_CUSTOMERS)]
                     + [_working_moment(rng, recent_start, now - timedelta(days=1))
                        for _ in range(RECENT_CUSTOMERS)])
    names = rng.sample(sorted(f"{c}{w}{k}" for c in CITIES for w in WORDS for k in KINDS), len(moments))
    customers: dict[int, str] = {}
    owned: list[tuple[int, Actor, datetime]] = []
    for n, (name, registered) in enumerate(zip(names, moments, strict=True)):
        owner = sales[n % 3]
        to_pool = n % 5 == 0
        contact = {"name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "总", "经理"]),
                   "phone": f"13{rng.randint(100000000, 999999999)}", "title": "采购负责人"}
        kind, source = rng.choice(types), rng.choice(DEFAULT_DICTIONARIES["sources"])
        region, city = rng.choice(DEFAULT_DICTIONARIES["regions"]), rng.choice(CITIES)
        building = f"{rng.randint(1, 20)}栋{rng.randint(101, 1808)}"
        location = _near(places, CITY_CENTRES[city], 5000)
        command = m.RegisterCustomer(
            name=name, type=kind, source=source, region=region, address=f"{city}市某某路{n + 1}号",
            building=building, lat=location[0], lng=location[1], contacts=[contact], to_pool=to_pool)

        timeline.at(registered, partial(_register, deps, customers, n, command, owner))
        if to_pool:
            # Half the customers registered into the pool are claimed some weeks later.
            if rng.random() < 0.5:
                claimer = sales[rng.randrange(3)]
                timeline.at(_working_moment(rng, registered + timedelta(days=5), registered + timedelta(days=60)),
                            partial(_claim, deps, claimer, customers, n))
            continue
        owned.append((n, owner, registered))
        if n % 7 == 1:
            other = sales[(n + 1) % 3]
            # As the system: an owner's share change would wait for approval (seed 000 §5.1.6).
            timeline.at(registered + timedelta(hours=1), partial(
                _on_customer, deps, customers, n, m.ChangeShares("", [other.person_id], []), system))
        # Visits within the follow time (the customer is still the owner's), the photo giving the
        # time and the place; one in eight entered the next day (补录, flagged late).
        visited = registered
        for _ in range(n % 4 + 1):
            visited = _working_moment(rng, visited + timedelta(days=1), visited + timedelta(days=20))
            if visited > min(now - timedelta(hours=2), registered + timedelta(days=FOLLOW_DAYS - 10)):
                break
            late = rng.random() < 0.125
            visit = m.RecordVisit(
                customer_id="", visited_at=visited, stage=rng.choice(DEFAULT_DICTIONARIES["stages"]),
                notes="上门拜访，介绍产品方案", photo=visit_photo(visited, _photo_place(places, location)))
            timeline.at(visited + timedelta(hours=30 if late else 0, minutes=20),
                        partial(_on_customer, deps, customers, n, visit, owner))
    # The pool sweep every Monday night, and once more just before the present.
    sweep = (start + timedelta(days=(7 - start.astimezone(ZONE).weekday()) % 7 or 7)).replace(hour=18)
    while sweep < now:
        timeline.at(sweep, partial(_run, deps, m.SweepPool(now=sweep), system))
        sweep += timedelta(days=7)
    last_sweep = now - timedelta(minutes=2)
    timeline.at(last_sweep, partial(_run, deps, m.SweepPool(now=last_sweep), system))
    seed_deals(timeline, deps, keeper, customers, owned, products, rng)
    seed_targets(timeline, deps, system, sales, start)
    # The after-sales story with a customer of the early months (a deal keeps it from the pool),
    # the delivery notice with one of the last weeks'.
    n, owner, _ = next(o for o in reversed(owned) if o[2] < now - timedelta(days=160))
    seed_after_sales(timeline, deps, keeper, owner, partial(customers.__getitem__, n), [p for p, _ in products])
    n, owner, _ = next(o for o in reversed(owned) if o[2] < now - timedelta(days=10))
    seed_handoff(timeline, deps, keeper, owner, partial(customers.__getitem__, n), products[2][0])
    timeline.run()
    clock.set(now - timedelta(seconds=30))
    today = business_day(now, load_settings(deps))
    handle(m.SubmitWorkReport("daily", today, "拜访客户，介绍产品方案", "跟进报价与回款"), sales[0], deps)


def _register(deps: Deps, customers: dict[int, str], n: int, command: m.RegisterCustomer, owner: Actor) -> None:
    customers[n] = handle(command, owner, deps).ids["id"]


def _on_customer(deps: Deps, customers: dict[int, str], n: int, command: m.Command, actor: Actor) -> None:
    """A command about customer `n`, whose id is known once its registration has run."""
    handle(replace(command, customer_id=customers[n]), actor, deps)  # type: ignore[call-arg]


def _claim(deps: Deps, claimer: Actor, customers: dict[int, str], n: int) -> None:
    try:
        handle(m.ClaimCustomer(customers[n]), claimer, deps)
    except DomainError:
        pass  # a cap or a cooldown of that day: the customer stays in the pool


# Seed 000 §2: where the demo's customers are (around their city) and its visit photos.
CITY_CENTRES = {"北京": (39.9042, 116.4074), "上海": (31.2304, 121.4737), "广州": (23.1291, 113.2644),
                "深圳": (22.5431, 114.0579), "杭州": (30.2741, 120.1551), "南京": (32.0603, 118.7969),
                "成都": (30.5728, 104.0668), "武汉": (30.5928, 114.3055), "西安": (34.3416, 108.9398),
                "沈阳": (41.8057, 123.4315), "苏州": (31.2990, 120.5853), "重庆": (29.5630, 106.5516)}


def _near(places: random.Random, centre: tuple[float, float], metres: float) -> tuple[float, float]:
    """A position up to about `metres` north/south and east/west of `centre`."""
    lat, lng = centre
    north, east = places.uniform(-metres, metres), places.uniform(-metres, metres)
    return (round(lat + north / 111_320, 6),
            round(lng + east / (111_320 * math.cos(math.radians(lat))), 6))


def _photo_place(places: random.Random, customer: tuple[float, float]) -> tuple[float, float] | None:
    """Most photos are taken at the customer; one in ten kilometres away (flagged
    `far_from_customer`), one in twelve without a GPS fix (not checked)."""
    draw = places.random()
    if draw < 0.1:
        return _near(places, customer, 20_000) if places.random() < 0.5 else _near(places, customer, 8000)
    if draw < 0.18:
        return None
    return _near(places, customer, 150)


def visit_photo(taken: datetime, gps: tuple[float, float] | None) -> bytes:
    """A small JPEG whose EXIF says when (business time, with its offset) and where it was taken."""
    local = taken.astimezone(ZoneInfo(DEFAULT_RULES["timezone"]))
    image = Image.new("RGB", (32, 24), (40 + local.hour * 8, 120, 200 - local.minute * 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CRM demo"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = local.strftime("%Y:%m:%d %H:%M:%S")
    offset = local.strftime("%z")  # +0800
    details[ExifTags.Base.OffsetTimeOriginal] = f"{offset[:3]}:{offset[3:5]}"
    if gps is not None:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        for (ref_tag, value_tag), value, (plus, minus) in (
            ((ExifTags.GPS.GPSLatitudeRef, ExifTags.GPS.GPSLatitude), gps[0], ("N", "S")),
            ((ExifTags.GPS.GPSLongitudeRef, ExifTags.GPS.GPSLongitude), gps[1], ("E", "W")),
        ):
            whole = abs(value)
            degrees, minutes = int(whole), int(whole % 1 * 60)
            info[ref_tag] = plus if value >= 0 else minus
            info[value_tag] = (float(degrees), float(minutes), round((whole % 1 * 60 - minutes) * 60, 3))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def seed_targets(timeline: _Timeline, deps: Deps, setter: Actor, sales: list[Actor], start: datetime) -> None:
    """Every month's targets for every salesperson, set on the month's first working morning,
    from the demo's first month to the present one."""
    month = start.astimezone(ZONE).date().replace(day=1)
    last = timeline.now.astimezone(ZONE).date().replace(day=1)
    while month <= last:
        first, end = report_period("monthly", month)
        moment = datetime(first.year, first.month, first.day, 8, 45, tzinfo=ZONE).astimezone(UTC)
        for n, seller in enumerate(sales):
            figures = {"new_customers": 8 + n, "visits": 20, "deal_amount": "50000", "collected_amount": "30000"}
            command = m.SetTarget(person_id=seller.person_id, period=f"{first.year}年{first.month}月", start=first,
                                  end=end, figures=figures)
            timeline.at(max(moment, start), partial(_run, deps, command, setter))
        month = (month + timedelta(days=32)).replace(day=1)


def seed_products(service: Service, keeper: Actor, system: Actor) -> list[tuple[str, Decimal]]:
    """The catalogue with its first stock in two warehouses, and the switch's list price."""
    deps = service.deps
    warehouse, second = DEFAULT_DICTIONARIES["warehouses"][0], "苏州仓"
    dictionaries = load_settings(deps).dictionaries
    handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": [*dictionaries["warehouses"], second]}),
           system, deps)
    catalogue = [("服务器", "R740", "台", "18000.00"), ("交换机", "S5720", "台", "4200.00"),
                 ("软件授权", "企业版", "套", "9800.00")]
    products = []
    for name, spec, unit, unit_cost in catalogue:
        product_id = handle(m.CreateProduct(name, spec, unit), keeper, deps).ids["id"]
        handle(m.StockIn(product_id, warehouse, Decimal("50"), Decimal(unit_cost)), keeper, deps)
        products.append((product_id, Decimal(unit_cost)))
    handle(m.StockIn(products[0][0], second, Decimal("10"), Decimal("18500.00")), keeper, deps)
    handle(m.StockIn(products[1][0], second, Decimal("20"), Decimal("4100.00")), keeper, deps)
    handle(m.ChangePrice(products[1][0], Decimal("5600.00"), "年度定价"), system, deps)
    return products


def seed_deals(timeline: _Timeline, deps: Deps, keeper: Actor, customers: dict[int, str],
               owned: list[tuple[int, Actor, datetime]], products: list[tuple[str, Decimal]],
               rng: random.Random) -> None:
    """Deals over the months, each invoiced, half paid and delivered in the days after it:
    nine with customers of the early months (within their follow time), three this month."""
    now = timeline.now
    month_start = now.astimezone(ZONE).replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    early = [o for o in owned if o[2] < now - timedelta(days=FOLLOW_DAYS + 10)]
    # This month's deals, even on its first morning (then minutes apart).
    window = (max(month_start, now - timedelta(days=20)),
              max(now - timedelta(hours=4), month_start + (now - month_start) / 2))
    recent = [o for o in owned if o[2] < window[0] - timedelta(days=1)][-3:]
    # Three early deals for each salesperson, spread over the early months.
    picks = [o for owner in {o[1].person_id: o[1] for o in early}.values()
             for mine in [[o for o in early if o[1] is owner]] for o in mine[::max(1, len(mine) // 3)][:3]]
    chosen = [(o, _working_moment(rng, o[2] + timedelta(days=10), o[2] + timedelta(days=60)))
              for o in sorted(picks, key=lambda o: o[2])]
    chosen += [(o, window[0] + (window[1] - window[0]) * (k + 1) / 4) for k, o in enumerate(recent)]
    for k, ((n, seller, _), signed) in enumerate(chosen):
        product_id, cost = products[k % len(products)]
        quantity = rng.randint(1, 4)
        price = (cost * Decimal("1.3")).quantize(Decimal("0.01"))
        total = price * quantity
        later = timedelta(hours=1) if signed >= month_start else timedelta(days=2)
        contract: dict[str, str] = {}
        number = f"HT{signed.astimezone(ZONE).year}{k + 1:04d}"
        lines = [{"product_id": product_id, "quantity": str(quantity), "unit_price": str(price)}]
        sign = m.SignContract(customer_id="", number=number, name="年度采购合同", lines=lines)
        timeline.at(signed, partial(_sign, deps, customers, n, sign, seller, contract))
        line = {"product_id": product_id, "warehouse": DEFAULT_DICTIONARIES["warehouses"][0],
                "quantity": str(quantity)}
        timeline.at(signed + later, partial(_on_contract, deps, contract, m.InvoiceContract("", total), seller))
        timeline.at(signed + later * 1.5, partial(_on_contract, deps, contract, m.Deliver("", [line]), keeper))
        payment = m.RecordPayment(customer_id="", amount=(total / 2).quantize(Decimal("0.01")))
        timeline.at(signed + later * 5, partial(_pay, deps, customers, n, payment, seller, contract))


def _sign(deps: Deps, customers: dict[int, str], n: int, command: m.SignContract, seller: Actor,
          contract: dict[str, str]) -> None:
    contract["id"] = handle(replace(command, customer_id=customers[n]), seller, deps).ids["id"]


def _on_contract(deps: Deps, contract: dict[str, str], command: m.Command, actor: Actor) -> None:
    handle(replace(command, contract_id=contract["id"]), actor, deps)  # type: ignore[call-arg]


def _pay(deps: Deps, customers: dict[int, str], n: int, command: m.RecordPayment, seller: Actor,
         contract: dict[str, str]) -> None:
    handle(replace(command, customer_id=customers[n], contract_id=contract["id"]), seller, deps)


def seed_after_sales(timeline: _Timeline, deps: Deps, keeper: Actor, seller: Actor, customer: Callable[[], str],
                     products: list[str]) -> None:
    """A deal delivered from two warehouses some months ago, then a return, an exchange for
    another product (across the two warehouses, with its price difference) and the red-letter
    invoice that the return calls for (G-5, G-6, seed 000 §5.6.3), weeks apart."""
    now = timeline.now
    main, second = DEFAULT_DICTIONARIES["warehouses"][0], "苏州仓"
    server, switch = products[0], products[1]
    contract: dict[str, str] = {}

    def sign() -> None:
        contract["id"] = handle(m.SignContract(
            customer_id=customer(), number="HT20269001", name="机房扩容合同",
            lines=[{"product_id": server, "quantity": "3", "unit_price": "24000.00"}]), seller, deps).ids["id"]

    def deliver() -> None:
        contract["delivery"] = handle(m.Deliver(contract["id"], [
            {"product_id": server, "warehouse": main, "quantity": "2"},
            {"product_id": server, "warehouse": second, "quantity": "1"}]), keeper, deps).ids["delivery_id"]

    def give_back() -> None:
        handle(m.ReturnGoods(contract["id"], contract["delivery"],
                             [{"product_id": server, "quantity": "1", "warehouse": second}]), keeper, deps)

    def exchange() -> None:
        handle(m.ExchangeGoods(contract["id"], contract["delivery"], [
            {"product_id": server, "quantity": "1", "warehouse": second, "from_warehouse": main,
             "replacement_product_id": switch}]), keeper, deps)

    timeline.at(now - timedelta(days=150), sign)
    timeline.at(now - timedelta(days=150, minutes=-30), lambda: _run(
        deps, m.InvoiceContract(contract["id"], Decimal("72000.00")), seller))
    timeline.at(now - timedelta(days=146), deliver)
    timeline.at(now - timedelta(days=140), lambda: _run(
        deps, m.RecordPayment(customer(), Decimal("30000.00"), contract["id"]), seller))
    # One server back to 苏州仓, one from 总仓 exchanged for a switch from 苏州仓 at its list price;
    # net 72,000 − 24,000 − 18,400 = 29,600, so 400 of the 30,000 collected is the customer's credit…
    timeline.at(now - timedelta(days=110), give_back)
    timeline.at(now - timedelta(days=95), exchange)
    # …and the 42,400 invoiced beyond the net amount reversed with a red-letter invoice.
    timeline.at(now - timedelta(days=90), lambda: _run(
        deps, m.CreditInvoice(contract["id"], Decimal("42400.00"), reason="退货、换货冲红"), seller))


def seed_handoff(timeline: _Timeline, deps: Deps, keeper: Actor, seller: Actor, customer: Callable[[], str],
                 product_id: str) -> None:
    """A delivery notice (发货通知, seed 000 §5.6.1) of last week the keeper has carried out in
    part: 5 asked, 2 delivered, 3 open in the keepers' list."""
    now = timeline.now
    warehouse = DEFAULT_DICTIONARIES["warehouses"][0]
    ids: dict[str, str] = {}

    def ask() -> None:
        ids["contract"] = handle(m.SignContract(
            customer_id=customer(), number="HT20269002", name="软件授权采购合同",
            lines=[{"product_id": product_id, "quantity": "5", "unit_price": "12800.00"}]), seller, deps).ids["id"]
        ids["request"] = handle(m.RequestDelivery(ids["contract"], [{"product_id": product_id, "quantity": "5"}],
                                                  "客户机房分两批上线，先发 2 套"), seller, deps).ids["id"]

    timeline.at(now - timedelta(days=6), ask)
    timeline.at(now - timedelta(days=3), lambda: _run(deps, m.Deliver(
        ids["contract"], [{"product_id": product_id, "warehouse": warehouse, "quantity": "2"}],
        request_id=ids["request"]), keeper))


def _run(deps: Deps, command: m.Command, actor: Actor) -> None:
    handle(command, actor, deps)
