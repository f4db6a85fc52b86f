"""A demo organisation for `make run`: people of every role, ~200 customers, pool, shares, visits."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from aggregates.organisation import Username
from aggregates.settings import DEFAULT_DICTIONARIES, type_names
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
    owned: list[tuple[Actor, str]] = []
    names = rng.sample(sorted(f"{c}{w}{k}" for c in CITIES for w in WORDS for k in KINDS), 200)
    for n, name in enumerate(names):
        owner = sales[n % 3]
        to_pool = n % 5 == 0
        contact = {"name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "总", "经理"]),
                   "phone": f"13{rng.randint(100000000, 999999999)}", "title": "采购负责人"}
        created = handle(
            m.RegisterCustomer(
                name=name, type=rng.choice(types), source=rng.choice(DEFAULT_DICTIONARIES["sources"]),
                region=rng.choice(DEFAULT_DICTIONARIES["regions"]),
                address=f"{rng.choice(CITIES)}市某某路{n + 1}号",
                building=f"{rng.randint(1, 20)}栋{rng.randint(101, 1808)}", contacts=[contact], to_pool=to_pool,
            ),
            owner, deps,
        )
        customer_id = created.ids["id"]
        if to_pool:
            continue
        owned.append((owner, customer_id))
        if n % 7 == 1:
            other = sales[(n + 1) % 3]
            handle(m.ChangeShares(customer_id, [other.person_id], []), owner, deps)
        for v in range(n % 4):
            handle(
                m.RecordVisit(
                    customer_id=customer_id,
                    visited_at=deps.clock.now() - timedelta(days=3 * v, hours=rng.randint(0, 8)),
                    stage=rng.choice(DEFAULT_DICTIONARIES["stages"]), notes="上门拜访，介绍产品方案",
                    address=contact["name"] + "办公室",
                ),
                owner, deps,
            )
    seed_sales(service, Actor(ids["keeper"], "keeper", frozenset({"warehouse"}), dept), owned, rng)
    # Set as the system: in the distributed mode the manager's department may not be projected yet.
    seed_targets(service, system, sales)
    return True


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
