"""A demo organisation for `make run`: people of every role, ~200 customers, pool, shares, visits."""

from __future__ import annotations

import io
import math
import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image

from aggregates.organisation import Username
from aggregates.settings import DEFAULT_DICTIONARIES, DEFAULT_RULES, type_names
from aggregates.target import report_period
from commands import messages as m
from commands.actor import Actor
from commands.base import business_day, load_settings
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
    """Create the demo data when the store has no people yet; returns whether it did."""
    if service.store.find(Username.id_for(DEMO_PEOPLE[0][0]), Username) is not None:
        return False
    deps = service.deps
    rng = random.Random(2026)
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
    types = type_names(DEFAULT_DICTIONARIES["customer_types"])
    # Seed 000 §2 (杜绝编造、补录): the demo organisation's visits carry their photo.
    handle(m.ChangeSettings(rules={"visit_photo_required": True}, dictionaries={}), system, deps)
    places = random.Random(2027)  # where customers are and photos were taken, apart from `rng`
    owned: list[tuple[Actor, str]] = []
    names = rng.sample(sorted(f"{c}{w}{k}" for c in CITIES for w in WORDS for k in KINDS), 200)
    for n, name in enumerate(names):
        owner = sales[n % 3]
        to_pool = n % 5 == 0
        contact = {"name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "总", "经理"]),
                   "phone": f"13{rng.randint(100000000, 999999999)}", "title": "采购负责人"}
        kind, source = rng.choice(types), rng.choice(DEFAULT_DICTIONARIES["sources"])
        region, city = rng.choice(DEFAULT_DICTIONARIES["regions"]), rng.choice(CITIES)
        building = f"{rng.randint(1, 20)}栋{rng.randint(101, 1808)}"
        location = _near(places, CITY_CENTRES[city], 5000)
        created = handle(
            m.RegisterCustomer(
                name=name, type=kind, source=source, region=region, address=f"{city}市某某路{n + 1}号",
                building=building, lat=location[0], lng=location[1], contacts=[contact], to_pool=to_pool,
            ),
            owner, deps,
        )
        customer_id = created.ids["id"]
        if to_pool:
            continue
        owned.append((owner, customer_id))
        if n % 7 == 1:
            other = sales[(n + 1) % 3]
            # As the system: an owner's share change would wait for approval (seed 000 §5.1.6).
            handle(m.ChangeShares(customer_id, [other.person_id], []), system, deps)
        for v in range(n % 4):
            # The photo gives the time and place; the address, contact and region are the customer's.
            visited_at = deps.clock.now() - timedelta(days=3 * v, hours=rng.randint(0, 8))
            handle(
                m.RecordVisit(
                    customer_id=customer_id, visited_at=visited_at,
                    stage=rng.choice(DEFAULT_DICTIONARIES["stages"]), notes="上门拜访，介绍产品方案",
                    photo=visit_photo(visited_at, _photo_place(places, location)),
                ),
                owner, deps,
            )
    seed_sales(service, Actor(ids["keeper"], "keeper", frozenset({"warehouse"}), dept), owned, rng)
    # Set as the system: in the distributed mode the manager's department may not be projected yet.
    seed_targets(service, system, sales)
    return True


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


def seed_targets(service: Service, setter: Actor, sales: list[Actor]) -> None:
    """This month's targets for every salesperson, and today's daily report of the first."""
    deps = service.deps
    today = business_day(deps.clock.now(), load_settings(deps))
    start, end = report_period("monthly", today)
    for n, seller in enumerate(sales):
        figures = {"new_customers": 60 + 5 * n, "visits": 40, "deal_amount": "150000",
                   "collected_amount": "100000"}
        command = m.SetTarget(person_id=seller.person_id, period=f"{start.year}年{start.month}月", start=start,
                               end=end, figures=figures)
        handle(command, setter, deps)
    handle(m.SubmitWorkReport("daily", today, "拜访客户，介绍产品方案", "跟进报价与回款"), sales[0], deps)


def seed_sales(service: Service, keeper: Actor, owned: list[tuple[Actor, str]], rng: random.Random) -> None:
    """Products with stock, and deals with invoices, payments and deliveries."""
    deps = service.deps
    warehouse = DEFAULT_DICTIONARIES["warehouses"][0]
    catalogue = [("服务器", "R740", "台", "18000.00"), ("交换机", "S5720", "台", "4200.00"),
                 ("软件授权", "企业版", "套", "9800.00")]
    products = []
    for name, spec, unit, unit_cost in catalogue:
        product_id = handle(m.CreateProduct(name, spec, unit), keeper, deps).ids["id"]
        handle(m.StockIn(product_id, warehouse, Decimal("50"), Decimal(unit_cost)), keeper, deps)
        products.append((product_id, Decimal(unit_cost)))
    for n, (seller, customer_id) in enumerate(owned[:12]):
        product_id, cost = products[n % len(products)]
        quantity = rng.randint(1, 4)
        price = (cost * Decimal("1.3")).quantize(Decimal("0.01"))
        contract_id = handle(m.SignContract(
            customer_id=customer_id, number=f"HT2026{n + 1:04d}", name="年度采购合同",
            lines=[{"product_id": product_id, "quantity": str(quantity), "unit_price": str(price)}]),
            seller, deps).ids["id"]
        total = price * quantity
        handle(m.InvoiceContract(contract_id, total), seller, deps)
        handle(m.RecordPayment(customer_id, (total / 2).quantize(Decimal("0.01")), contract_id), seller, deps)
        line = {"product_id": product_id, "warehouse": warehouse, "quantity": str(quantity)}
        handle(m.Deliver(contract_id, [line]), keeper, deps)
    seed_after_sales(service, keeper, owned[12], [p for p, _ in products])
    seed_handoff(service, keeper, owned[13], products[2][0])


def seed_after_sales(service: Service, keeper: Actor, owned: tuple[Actor, str], products: list[str]) -> None:
    """A deal delivered from two warehouses, then a return, an exchange for another product
    (across the two warehouses, with its price difference) and the red-letter invoice that
    the return calls for (G-5, G-6, seed 000 §5.6.3)."""
    deps = service.deps
    seller, customer_id = owned
    main, second = DEFAULT_DICTIONARIES["warehouses"][0], "苏州仓"
    dictionaries = load_settings(deps).dictionaries
    system = Actor("system", "system", frozenset({"admin"}), None)
    handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": [*dictionaries["warehouses"], second]}),
           system, deps)
    server, switch = products[0], products[1]
    handle(m.StockIn(server, second, Decimal("10"), Decimal("18500.00")), keeper, deps)
    handle(m.StockIn(switch, second, Decimal("20"), Decimal("4100.00")), keeper, deps)
    handle(m.ChangePrice(switch, Decimal("5600.00"), "年度定价"), system, deps)
    contract_id = handle(m.SignContract(
        customer_id=customer_id, number="HT20269001", name="机房扩容合同",
        lines=[{"product_id": server, "quantity": "3", "unit_price": "24000.00"}]), seller, deps).ids["id"]
    handle(m.InvoiceContract(contract_id, Decimal("72000.00")), seller, deps)
    handle(m.RecordPayment(customer_id, Decimal("30000.00"), contract_id), seller, deps)
    delivery_id = handle(m.Deliver(contract_id, [
        {"product_id": server, "warehouse": main, "quantity": "2"},
        {"product_id": server, "warehouse": second, "quantity": "1"}]), keeper, deps).ids["delivery_id"]
    # One server back to 苏州仓, one from 总仓 exchanged for a switch from 苏州仓 at its list price;
    # net 72,000 − 24,000 − 18,400 = 29,600, so 400 of the 30,000 collected is the customer's credit…
    handle(m.ReturnGoods(contract_id, delivery_id, [{"product_id": server, "quantity": "1", "warehouse": second}]),
           keeper, deps)
    handle(m.ExchangeGoods(contract_id, delivery_id, [
        {"product_id": server, "quantity": "1", "warehouse": second, "from_warehouse": main,
         "replacement_product_id": switch}]), keeper, deps)
    # …and the 42,400 invoiced beyond the net amount reversed with a red-letter invoice.
    handle(m.CreditInvoice(contract_id, Decimal("42400.00"), reason="退货、换货冲红"), seller, deps)


def seed_handoff(service: Service, keeper: Actor, owned: tuple[Actor, str], product_id: str) -> None:
    """A delivery notice (发货通知, seed 000 §5.6.1) the keeper has carried out in part: 5 asked,
    2 delivered, 3 open in the keepers' list."""
    deps = service.deps
    seller, customer_id = owned
    warehouse = DEFAULT_DICTIONARIES["warehouses"][0]
    contract_id = handle(m.SignContract(
        customer_id=customer_id, number="HT20269002", name="软件授权采购合同",
        lines=[{"product_id": product_id, "quantity": "5", "unit_price": "12800.00"}]), seller, deps).ids["id"]
    request_id = handle(m.RequestDelivery(contract_id, [{"product_id": product_id, "quantity": "5"}],
                                          "客户机房分两批上线，先发 2 套"), seller, deps).ids["id"]
    handle(m.Deliver(contract_id, [{"product_id": product_id, "warehouse": warehouse, "quantity": "2"}],
                     request_id=request_id), keeper, deps)
