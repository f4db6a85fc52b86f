"""A deterministic bulk data generator for benchmarks.

The organisation — a sales centre with up to 10 sales departments over the 7 regions, up to
100 salespeople, their managers, a director, a warehouse keeper, an admin and an auditor,
all signing in with the password `bench1234` — is created through the command layer. Then
two years of customers' lives are simulated on aggregates kept in memory: registrations
(with contacts and shares), claims, releases, recalls, transfers, assignments, shares,
contact changes, visits, info changes (region changes among them, some through approval),
deals, invoices, payments, stock-ins, deliveries, returns and exchanges. Each simulated
command changes its aggregates the way its handler does, and the events of many commands
are saved per transaction, in command order, through the event store.

The same seed and sizes give the same events. Projections are left behind: the store is
wired in the distributed mode and nothing is projected.

    .venv/bin/python -m benchmarks.generate --url sqlite:////tmp/bench.db \\
        --customers 100000 --events 1000000 --seed 1
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import ROUND_CEILING, Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import argon2
from sqlalchemy import func, select, text

from aggregates.approval import Approval
from aggregates.base import Context, DomainError
from aggregates.contract import Contract, ContractNumber
from aggregates.customer import Customer
from aggregates.money import money, quantity, unit_cost
from aggregates.names import CustomerName, normalise_name
from aggregates.organisation import Salesperson
from aggregates.product import Product, ProductStock
from aggregates.settings import type_names
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.adapters.infra import credentials, sequences
from commands.base import cap_of, load_settings
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle

T = TypeVar("T")
Progress = Callable[[int, int], None]

# The simulated two years end here; a constant, so that a run does not depend on the day it runs.
END = datetime(2026, 11, 24, tzinfo=UTC)
SPAN_DAYS = 730
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "bench1234"
MAX_CUSTOMERS = 2000
SECOND_WAREHOUSE = "华东仓"
# Events per transaction; commands are never split between two.
BATCH_EVENTS = 2000
# All customers are registered by this share of the run; the rest of it is their lives.
REGISTERED_BY = 0.995
# Consecutive refused draws after which the simulation has nothing left to do.
GIVE_UP_AFTER = 100_000

# Relative frequency of each kind of command, once registrations are on schedule.
WEIGHTS: dict[str, float] = {
    "visit": 320,
    "claim": 18,
    "release": 16,
    "recall": 3,
    "transfer": 8,
    "assign": 3,
    "share": 10,
    "contact": 10,
    "change_info": 14,
    "request_change": 9,
    "decide_change": 9,
    "deal": 38,
    "invoice": 30,
    "payment": 40,
    "deliver": 22,
    "return": 2.5,
    "exchange": 1.2,
    "restock": 1,
    "price": 0.1,
}

CITIES: dict[str, list[tuple[str, float, float]]] = {
    "华北": [("北京", 39.90, 116.40), ("天津", 39.13, 117.20), ("石家庄", 38.04, 114.51), ("太原", 37.87, 112.55)],
    "华东": [("上海", 31.23, 121.47), ("南京", 32.06, 118.80), ("杭州", 30.27, 120.16), ("苏州", 31.30, 120.58),
           ("济南", 36.65, 117.12), ("合肥", 31.82, 117.23)],
    "华南": [("广州", 23.13, 113.26), ("深圳", 22.54, 114.06), ("厦门", 24.48, 118.09), ("南宁", 22.82, 108.32)],
    "华中": [("武汉", 30.59, 114.31), ("长沙", 28.23, 112.94), ("郑州", 34.75, 113.63), ("南昌", 28.68, 115.86)],
    "西南": [("成都", 30.57, 104.07), ("重庆", 29.56, 106.55), ("昆明", 25.04, 102.71), ("贵阳", 26.65, 106.63)],
    "西北": [("西安", 34.34, 108.94), ("兰州", 36.06, 103.83), ("乌鲁木齐", 43.83, 87.62),
           ("银川", 38.49, 106.23)],
    "东北": [("沈阳", 41.81, 123.43), ("大连", 38.91, 121.61), ("长春", 43.82, 125.32), ("哈尔滨", 45.80, 126.53)],
}
WORDS = ["华信", "恒通", "博远", "瑞丰", "金诚", "天合", "中科", "宏达", "新纪元", "远景", "明德", "汇智", "鼎盛",
         "嘉禾", "云帆", "启航", "卓越", "同创", "万象", "和泰", "长风", "海川", "星河", "蓝海", "正泰", "国信",
         "安泰", "永盛", "联创", "东方", "盛世", "华阳", "润通", "智联", "德润", "弘毅", "诚达", "信达", "佳禾",
         "泰和", "银河", "光华", "凯旋", "华瑞", "九州", "新锐", "百川", "精工", "广源", "方圆"]
KINDS = ["科技有限公司", "贸易有限公司", "实业有限公司", "信息技术有限公司", "医疗器械有限公司", "建设集团",
         "电子有限公司", "网络科技有限公司", "制造有限公司", "物流有限公司", "教育咨询有限公司", "能源有限公司",
         "软件有限公司", "工程有限公司", "商贸有限公司"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "长江路", "黄河路", "科技路", "创业大道",
           "高新大道", "滨江路", "世纪大道", "文化路", "学府路"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞鹏辉玲丹萍鑫波宁建国志红文斌宇浩凯"
TITLES = ["总经理", "采购经理", "技术总监", "财务经理", "行政主管", "IT负责人", "项目经理", "采购专员"]
VISIT_NOTES = ["上门拜访，介绍产品方案", "电话沟通后现场交流需求", "演示系统功能，客户反馈良好",
               "商务洽谈，讨论报价", "回访使用情况", "陪同技术人员现场勘查", "递交方案书", "参加客户招标答疑会"]
RELEASE_NOTES = ["客户暂无需求", "联系不上", "精力有限，释放回公海", "客户已选择其他供应商"]
RECALL_NOTES = ["长期未跟进", "经理收回重新分配"]
TRANSFER_REASONS = ["区域调整", "工作交接", "客户要求更换对接人", "离职交接"]
CHANGE_REASONS = ["客户搬迁", "信息核实更正", "客户资料更新", "工商信息变更"]
APPROVE_COMMENTS = ["同意", "已核实，同意", "可以"]
REJECT_COMMENTS = ["信息有误，请核实", "不同意"]
SERVICE_CONTRACTS = ["技术服务合同", "年度维保合同", "系统集成合同", "咨询服务合同"]
DISCOUNTS = [Decimal(d) for d in ("1", "0.98", "0.95", "0.92", "0.9", "0.88", "0.85")]
PARTS = [Decimal(p) for p in ("0.3", "0.5", "0.7")]
QUANTITIES = [1, 1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20]
CATALOGUE: list[tuple[str, list[str], str, int]] = [
    ("服务器", ["R740", "R750", "R760"], "台", 18000), ("交换机", ["S5720", "S6730"], "台", 4200),
    ("路由器", ["AR6120", "AR6280"], "台", 6500), ("防火墙", ["USG6500", "USG6600"], "台", 12000),
    ("存储阵列", ["5300", "5500"], "套", 56000), ("笔记本电脑", ["T14", "X1"], "台", 6800),
    ("台式机", ["M450", "M650"], "台", 4300), ("显示器", ["24英寸", "27英寸"], "台", 1200),
    ("打印机", ["M404", "M507"], "台", 2600), ("投影仪", ["CB-X50", "CB-FH52"], "台", 3900),
    ("UPS电源", ["3kVA", "10kVA"], "台", 5200), ("机柜", ["42U", "47U"], "个", 2100),
    ("无线AP", ["AP4050", "AP6050"], "个", 900), ("视频会议终端", ["Box300", "Box600"], "套", 15800),
    ("网络摄像机", ["DS-2CD", "DS-2DE"], "个", 750), ("软件授权", ["标准版", "企业版"], "套", 9800),
]
ORDINALS = "一二三四五六七八九十"

# Benchmarks run the distributed configuration, which needs a signing key: one for this run
# (and the processes it starts), unless one is given.
os.environ.setdefault("CRM_SECRET_KEY", secrets.token_urlsafe(48))


def organisation_shape(customers: int) -> tuple[int, int]:
    """(departments, salespeople): 10 and 100 for 100,000 customers, fewer for smaller
    runs, never fewer than one department and three salespeople."""
    salespeople = max(3, min(100, round(customers / 1000)))
    return min(10, (salespeople + 9) // 10), salespeople


class Ids:
    """Ids from their own seeded stream, so they do not shift the simulation's choices."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids:{seed}")

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def hex(self) -> str:
        return self.uuid().hex


@contextmanager
def seeded_uuid4(make: Callable[[], uuid.UUID]) -> Iterator[None]:
    """Point the `uuid4` that domain and command modules imported at `make` for the run:
    contact, visit, invoice, person and command ids then follow the seed."""
    patched = [
        module for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("aggregates", "commands") and getattr(module, "uuid4", None) is uuid.uuid4
    ]
    for module in patched:
        setattr(module, "uuid4", make)  # noqa: B010
    try:
        yield
    finally:
        for module in patched:
            setattr(module, "uuid4", uuid.uuid4)  # noqa: B010


class Bag(Generic[T]):
    """A set with constant-time add, discard and uniform random choice, in an order that
    depends only on the operations (never on string hashing)."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._index: dict[T, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: T) -> None:
        if item not in self._index:
            self._index[item] = len(self._items)
            self._items.append(item)

    def discard(self, item: T) -> None:
        position = self._index.pop(item, None)
        if position is None:
            return
        last = self._items.pop()
        if position < len(self._items):
            self._items[position] = last
            self._index[last] = position

    def at(self, position: int) -> T:
        return self._items[position]

    def choice(self, rng: random.Random) -> T | None:
        return self._items[rng.randrange(len(self._items))] if self._items else None


class Timeline:
    """The working hours (Monday to Friday, 09:00–18:00 business time) of the simulated
    span; a run's progress from 0 to 1 maps to a moment in them."""

    def __init__(self, end: datetime, days: int) -> None:
        first = end.astimezone(BUSINESS_TZ).date() - timedelta(days=days)
        every = (first + timedelta(days=n) for n in range(days))
        self.days = [day for day in every if day.weekday() < 5]

    def at(self, progress: float) -> datetime:
        position = min(max(progress, 0.0), 0.9999999) * len(self.days)
        whole = int(position)
        opening = datetime.combine(self.days[whole], clock_time(9), BUSINESS_TZ)
        return (opening + timedelta(seconds=(position - whole) * 9 * 3600)).astimezone(UTC)


class Simulation:
    """The organisation, the customers and their contracts in memory, and the events of the
    simulated commands waiting to be saved."""

    def __init__(self, service: Service, ids: Ids, customers: int, events: int, seed: int,
                 progress: Progress | None) -> None:
        self.service = service
        self.store = service.store
        self.ids = ids
        self.rng = random.Random(seed)
        self.customers_wanted = customers
        self.events_wanted = events
        self.progress = progress
        self.timeline = Timeline(END, SPAN_DAYS)
        self.now = self.timeline.at(0.0)
        self.pending: list[Any] = []
        self.written = 0  # events saved or waiting, since the run began
        self.next_report = 0
        self.refused: dict[str, int] = {}
        # The organisation.
        self.director = self.keeper = ""
        self.departments: list[str] = []
        self.region_of: dict[str, str] = {}  # department → region
        self.manager_of_department: dict[str, str] = {}
        self.department_of: dict[str, str] = {}  # salesperson → department
        self.members: dict[str, list[str]] = {}
        self.salespeople: list[str] = []
        self.profiles: dict[str, Salesperson] = {}
        # Customers: every one, and where each stands.
        self.customers: dict[str, Customer] = {}
        self.names: dict[uuid.UUID, CustomerName] = {}
        self.used_names: set[str] = set()
        self.pool: Bag[str] = Bag()
        self.held: Bag[str] = Bag()  # owned, not dealt
        self.dealt: Bag[str] = Bag()  # owned and dealt
        self.month_numbers: dict[str, int] = {}
        self.awaiting: deque[Approval] = deque()
        # Sales and goods.
        self.products: list[Product] = []
        self.base_cost: dict[str, Decimal] = {}
        self.stocks: dict[uuid.UUID, ProductStock] = {}
        self.contracts: dict[str, Contract] = {}
        self.to_invoice: Bag[str] = Bag()
        self.to_collect: Bag[str] = Bag()
        self.to_deliver: Bag[str] = Bag()
        self.deliveries: Bag[tuple[str, str]] = Bag()  # (contract, delivery or exchange) with goods out
        self.contract_count = 0
        self.deal_region: dict[str, str] = {}
        self.regions_changed_between_deals: set[str] = set()
        self.actions: dict[str, Callable[[], bool]] = {
            "visit": self.visit, "claim": self.claim, "release": lambda: self.back_to_pool(False),
            "recall": lambda: self.back_to_pool(True), "transfer": self.transfer, "assign": self.assign,
            "share": self.share, "contact": self.contact, "change_info": self.change_info,
            "request_change": self.request_change, "decide_change": self.decide_change, "deal": self.deal,
            "invoice": self.invoice, "payment": self.payment, "deliver": self.deliver,
            "return": self.return_goods, "exchange": self.exchange, "restock": self.restock,
            "price": self.change_price,
        }

    # ---- the organisation, through the command layer ---------------------------------------

    def build_organisation(self, departments: int, salespeople: int) -> None:
        """Departments, people with credentials and profiles, and a second warehouse."""
        deps = self.service.deps
        system = Actor("system", "system", frozenset({"admin"}), None)
        settings = load_settings(deps)
        regions: list[str] = settings.dictionaries["regions"]
        root = handle(m.CreateDepartment(name="销售中心"), system, deps).ids["id"]
        for n in range(departments):
            region = regions[n % len(regions)]
            name = f"{region}销售{ORDINALS[n // len(regions)]}部"
            created = handle(m.CreateDepartment(name=name, parent_id=root), system, deps)
            self.departments.append(created.ids["id"])
            self.region_of[created.ids["id"]] = region

        def person(username: str, roles: list[str], department: str, position: str,
                   max_customers: int | None = None) -> str:
            command = m.CreatePerson(
                name=self.person_name(), username=username, password=PASSWORD, roles=roles,
                department_id=department, position=position, mobile=self.phone(),
                gender=self.rng.choice(("男", "女")), max_customers=max_customers, max_follow_days=None,
            )
            return str(handle(command, system, deps).ids["id"])

        person("admin", ["admin"], root, "系统管理员")
        self.director = person("director", ["manager"], root, "销售总监")
        self.keeper = person("keeper", ["warehouse"], root, "库管员")
        person("auditor", ["auditor"], root, "审计员")
        for n, department in enumerate(self.departments):
            self.manager_of_department[department] = person(f"manager{n + 1:02d}", ["manager"], department,
                                                            "销售经理")
            self.members[department] = []
        for n in range(salespeople):
            department = self.departments[n % departments]
            seller = person(f"sales{n + 1:03d}", ["sales"], department, "业务员", MAX_CUSTOMERS)
            self.salespeople.append(seller)
            self.department_of[seller] = department
            self.members[department].append(seller)
        handle(m.ChangeDepartment(root, {"manager_ids": [self.director]}), system, deps)
        for department, manager in self.manager_of_department.items():
            handle(m.ChangeDepartment(department, {"manager_ids": [manager]}), system, deps)
        warehouses = [*settings.dictionaries["warehouses"], SECOND_WAREHOUSE]
        handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": warehouses}), system, deps)

        self.settings = load_settings(deps)
        rules, dictionaries = self.settings.rules, self.settings.dictionaries
        self.regions = list(dictionaries["regions"])
        self.types = type_names(dictionaries["customer_types"])
        self.sources = list(dictionaries["sources"])
        self.stages = list(dictionaries["stages"])
        self.warehouses = list(dictionaries["warehouses"])
        self.cooldown_days = int(rules["reclaim_cooldown_days"] or 0)
        self.daily_limit: int | None = rules.get("daily_claim_limit")
        self.late_hours = int(rules["late_entry_hours"])
        for seller in self.salespeople:
            profile = self.store.find(Salesperson.id_for(seller), Salesperson)
            assert profile is not None
            self.profiles[seller] = profile

    # ---- the run -------------------------------------------------------------------------

    def run(self, start_head: int) -> None:
        """Simulate commands until the requested number of events is written."""
        self.written = self.store.head() - start_head
        self.open_catalogue()
        names = list(self.actions)
        cumulative = list(accumulate(WEIGHTS[name] for name in names))
        refused_in_a_row = 0
        while self.written < self.events_wanted:
            progress = self.written / self.events_wanted
            moment = self.timeline.at(progress)
            self.now = moment if moment > self.now else self.now + timedelta(microseconds=1)
            if self.registered < self.customers_wanted and (
                self.registered <= self.customers_wanted * progress / REGISTERED_BY
                or refused_in_a_row > 1000
            ):
                self.register()
                refused_in_a_row = 0
                continue
            name = self.rng.choices(names, cum_weights=cumulative)[0]
            try:
                done = self.actions[name]()
            except DomainError as error:
                self.refused[error.code] = self.refused.get(error.code, 0) + 1
                done = False
            refused_in_a_row = 0 if done else refused_in_a_row + 1
            if refused_in_a_row > GIVE_UP_AFTER:
                break
        self.flush()
        self.check_nothing_left()

    @property
    def registered(self) -> int:
        return len(self.customers)

    def context(self, actor: str) -> Context:
        return Context(actor_id=actor, command_id=self.ids.hex(), at=self.now)

    def day(self, ctx: Context) -> date:
        return ctx.at.astimezone(BUSINESS_TZ).date()

    def emit(self, *aggregates: Any) -> None:
        """One command's events, in its handler's save order; saved with the next batch."""
        for aggregate in aggregates:
            if aggregate is not None:
                events = aggregate.collect_events()
                self.pending.extend(events)
                self.written += len(events)
        if len(self.pending) >= BATCH_EVENTS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            # Events rather than aggregates: their order across aggregates is the commands' order.
            self.store.save(*self.pending)
            self.pending = []
        if self.progress is not None and self.written >= self.next_report:
            self.progress(self.written, self.events_wanted)
            self.next_report = self.written + max(self.events_wanted // 20, BATCH_EVENTS)

    def check_nothing_left(self) -> None:
        """Every change made was saved: a refused command must not have changed anything."""
        groups: list[Any] = [self.customers.values(), self.names.values(), self.contracts.values(),
                             self.stocks.values(), self.profiles.values(), self.products, self.awaiting]
        for group in groups:
            for aggregate in group:
                if aggregate.pending_events:
                    raise RuntimeError(f"unsaved events on {type(aggregate).__name__} {aggregate.id}")

    def take_snapshots(self) -> None:
        """The store snapshots long histories as commands save them; events saved in bulk
        bypass that, so the profiles and stocks are snapshotted once here."""
        for aggregate in [*self.profiles.values(), *self.stocks.values()]:
            if aggregate.version >= 100:
                self.service.store.take_snapshot(aggregate.id)

    def write_sequences(self) -> None:
        """Set the number sequences past the numbers used, so later registrations and
        products do not collide with the generated ones."""
        rows = [{"name": f"customer:{month}", "value": value}
                for month, value in sorted(self.month_numbers.items())]
        rows.append({"name": "product", "value": len(self.products)})
        with self.store.engine.begin() as conn:
            conn.execute(sequences.insert(), rows)

    # ---- made-up details -----------------------------------------------------------------

    def person_name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"

    def new_contact(self) -> dict[str, Any]:
        return {"name": self.person_name(), "phone": self.phone(), "title": self.rng.choice(TITLES)}

    def new_name(self, city: str) -> str:
        """A company name never used before (C-2 holds without asking the store)."""
        for attempt in range(1000):
            first, second = self.rng.sample(WORDS, 2)
            name = f"{city}{first}{second}{self.rng.choice(KINDS)}"
            if attempt > 20:
                name += f"{attempt}号"
            key = normalise_name(name)
            if key not in self.used_names:
                self.used_names.add(key)
                return name
        raise RuntimeError("no free customer name left")

    def address(self, region: str) -> dict[str, Any]:
        city, lat, lng = self.rng.choice(CITIES.get(region) or CITIES["华东"])
        return {
            "city": city,
            "address": f"{city}市{self.rng.choice(STREETS)}{self.rng.randint(1, 999)}号",
            "building": f"{self.rng.randint(1, 30)}栋{self.rng.randint(1, 28)}{self.rng.randint(1, 20):02d}",
            "lat": round(lat + self.rng.uniform(-0.15, 0.15), 6),
            "lng": round(lng + self.rng.uniform(-0.15, 0.15), 6),
        }

    def cap(self, profile: Salesperson) -> int:
        return cap_of(profile, self.settings)

    def has_room(self, person_id: str) -> bool:
        profile = self.profiles[person_id]
        return len(profile.held) < self.cap(profile)

    def colleague(self, person_id: str) -> str | None:
        """Someone else from the same department, or from anywhere when it has nobody else."""
        team = self.members[self.department_of[person_id]]
        others = team if len(team) > 1 else self.salespeople
        if len(others) < 2:
            return None
        while True:
            other = self.rng.choice(others)
            if other != person_id:
                return other

    def manager_of(self, person_id: str) -> str:
        return self.manager_of_department[self.department_of[person_id]]

    def owned(self) -> str | None:
        """A customer someone holds, dealt or not."""
        total = len(self.held) + len(self.dealt)
        if not total:
            return None
        n = self.rng.randrange(total)
        return self.held.at(n) if n < len(self.held) else self.dealt.at(n - len(self.held))

    def holding(self) -> tuple[str, Customer, str] | None:
        """A held customer (see `owned`), with its state and its owner."""
        customer_id = self.owned()
        if customer_id is None:
            return None
        customer = self.customers[customer_id]
        assert customer.owner_id is not None
        return customer_id, customer, customer.owner_id

    # ---- customers -----------------------------------------------------------------------

    def register(self) -> None:
        """C-1: into the registrant's hands (or the pool), with contacts, sometimes shared."""
        rng = self.rng
        seller = rng.choice(self.salespeople)
        profile = self.profiles[seller]
        home = self.region_of[self.department_of[seller]]
        region = home if rng.random() < 0.6 else rng.choice(self.regions)
        place = self.address(region)
        name = self.new_name(place["city"])
        owner = None if rng.random() < 0.15 or not self.has_room(seller) else seller
        sharee = self.colleague(seller) if owner and rng.random() < 0.08 else None
        contacts = [self.new_contact() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
        fields = {
            "type": rng.choice(self.types), "source": rng.choice(self.sources), "region": region,
            "address": place["address"], "building": place["building"], "lat": place["lat"],
            "lng": place["lng"], "stage": self.stages[0] if rng.random() < 0.6 else None,
        }
        ctx = self.context(seller)
        month = ctx.at.astimezone(BUSINESS_TZ).strftime("%Y%m")
        self.month_numbers[month] = self.month_numbers.get(month, 0) + 1
        number = f"KH{month}{self.month_numbers[month]:06d}"
        customer = Customer.register(
            ctx, id=self.ids.uuid(), number=number, name=name, fields=fields, contacts=contacts,
            owner_id=owner, shared_with=[sharee] if sharee else [],
        )
        customer_id = str(customer.id)
        index = CustomerName.reserve(ctx, name, customer_id, number)
        if owner is not None:
            profile.take(ctx, customer_id, how="register", cap=self.cap(profile), day=self.day(ctx).isoformat())
        self.emit(customer, index, profile if owner else None)
        self.customers[customer_id] = customer
        self.names[index.id] = index
        (self.held if owner else self.pool).add(customer_id)

    def claim(self) -> bool:
        """C-5: a salesperson with room takes a pool customer."""
        customer_id = self.pool.choice(self.rng)
        seller = self.rng.choice(self.salespeople)
        if customer_id is None or not self.has_room(seller):
            return False
        customer, profile = self.customers[customer_id], self.profiles[seller]
        ctx = self.context(seller)
        today = self.day(ctx).isoformat()
        limit = self.daily_limit
        if limit is not None and profile.claim_day == today and profile.claims_that_day >= limit:
            return False  # checked first: take() would refuse after the customer had changed
        customer.claim(ctx, seller, self.cooldown_days)
        profile.take(ctx, customer_id, how="claim", cap=self.cap(profile), day=today, daily_limit=self.daily_limit)
        self.emit(customer, profile)
        self.pool.discard(customer_id)
        self.held.add(customer_id)
        return True

    def back_to_pool(self, recall: bool) -> bool:
        """C-6: the owner releases, or the owner's manager recalls, a customer not dealt."""
        customer_id = self.held.choice(self.rng)
        if customer_id is None:
            return False
        customer = self.customers[customer_id]
        owner = customer.owner_id
        assert owner is not None
        reason = "recalled" if recall else "released"
        ctx = self.context(self.manager_of(owner) if recall else owner)
        customer.return_to_pool(ctx, reason, self.rng.choice(RECALL_NOTES if recall else RELEASE_NOTES))
        profile = self.profiles[owner]
        profile.let_go(ctx, customer_id, reason)
        self.emit(customer, profile)
        self.held.discard(customer_id)
        self.pool.add(customer_id)
        return True

    def transfer(self) -> bool:
        """C-7: the owner (sometimes the manager) hands a customer to a colleague with room."""
        found = self.holding()
        if found is None:
            return False
        customer_id, customer, giver_id = found
        receiver_id = self.colleague(giver_id) if self.rng.random() < 0.7 else self.rng.choice(self.salespeople)
        dealt = customer.status == "dealt"
        if receiver_id is None or receiver_id == giver_id or (not dealt and not self.has_room(receiver_id)):
            return False
        giver, receiver = self.profiles[giver_id], self.profiles[receiver_id]
        ctx = self.context(giver_id if self.rng.random() < 0.85 else self.manager_of(giver_id))
        customer.transfer(ctx, receiver_id, self.rng.choice(TRANSFER_REASONS))
        giver.let_go(ctx, customer_id, "transfer")
        if not dealt:
            receiver.take(ctx, customer_id, how="transfer", cap=self.cap(receiver), day=self.day(ctx).isoformat())
        self.emit(customer, giver, receiver)
        return True

    def assign(self) -> bool:
        """C-7: a manager assigns a pool customer to someone of the department."""
        customer_id = self.pool.choice(self.rng)
        department = self.rng.choice(self.departments)
        receiver_id = self.rng.choice(self.members[department])
        if customer_id is None or not self.has_room(receiver_id):
            return False
        customer, receiver = self.customers[customer_id], self.profiles[receiver_id]
        ctx = self.context(self.manager_of_department[department])
        customer.assign(ctx, receiver_id)
        receiver.take(ctx, customer_id, how="assign", cap=self.cap(receiver), day=self.day(ctx).isoformat())
        self.emit(customer, receiver)
        self.pool.discard(customer_id)
        self.held.add(customer_id)
        return True

    def share(self) -> bool:
        """C-4: the owner shares with a colleague, or stops sharing."""
        found = self.holding()
        if found is None:
            return False
        customer_id, customer, owner = found
        if customer.shared_with and self.rng.random() < 0.3:
            add, remove = [], [self.rng.choice(customer.shared_with)]
        else:
            other = self.colleague(owner)
            if other is None or other in customer.shared_with:
                return False
            add, remove = [other], []
        customer.change_shares(self.context(owner), add, remove)
        self.emit(customer)
        return True

    def contact(self) -> bool:
        """C-9: a new contact, or a contact's new phone number."""
        found = self.holding()
        if found is None:
            return False
        customer_id, customer, owner = found
        ctx = self.context(owner)
        if customer.contacts and self.rng.random() < 0.4:
            contact = self.rng.choice(customer.contacts)
            customer.edit_contact(ctx, contact["id"], {"phone": self.phone()})
        else:
            customer.add_contact(ctx, {**self.new_contact(), "primary": self.rng.random() < 0.2})
        self.emit(customer)
        return True

    def visit(self) -> bool:
        """C-10: mostly by the owner, sometimes by a sharee or the manager; a few late entries."""
        rng = self.rng
        found = self.holding()
        if found is None:
            return False
        customer_id, customer, owner = found
        roll = rng.random()
        if roll < 0.05 and customer.shared_with:
            visitor = rng.choice(customer.shared_with)
        elif roll < 0.1:
            visitor = self.manager_of(owner)
        else:
            visitor = owner
        ctx = self.context(visitor)
        if rng.random() < 0.03:
            visited_at = ctx.at - timedelta(hours=rng.uniform(self.late_hours + 1, self.late_hours + 48))
        else:
            visited_at = ctx.at - timedelta(minutes=rng.uniform(0, 180))
        visited_at = max(visited_at, customer.created_at)
        stage = customer.stage or self.stages[0]
        position = self.stages.index(stage) if stage in self.stages else 0
        if rng.random() < 0.35 and position < len(self.stages) - 2:
            stage = self.stages[position + 1]
        primary = next((c["name"] for c in customer.contacts if c.get("primary")), None)
        customer.record_visit(
            ctx, visited_at=visited_at, late_entry_hours=self.late_hours,
            lat=None if customer.lat is None else round(customer.lat + rng.uniform(-0.002, 0.002), 6),
            lng=None if customer.lng is None else round(customer.lng + rng.uniform(-0.002, 0.002), 6),
            address=customer.address, contact=primary, stage=stage, notes=rng.choice(VISIT_NOTES),
        )
        self.emit(customer)
        return True

    def info_changes(self, customer: Customer, *, move: bool, rename: bool, lose: bool) -> dict[str, Any]:
        """C-3: one to three fields, each to a value other than the current one; a move to
        another region brings a new address and position."""
        rng = self.rng
        fields = rng.sample(["region", "address", "building", "stage", "type", "source"], rng.choice((1, 1, 2, 3)))
        changes: dict[str, Any] = {}
        if move or "region" in fields:
            region = rng.choice([r for r in self.regions if r != customer.region])
            place = self.address(region)
            changes.update(region=region, address=place["address"], building=place["building"],
                           lat=place["lat"], lng=place["lng"])
        elif "address" in fields or "building" in fields:
            place = self.address(customer.region or self.regions[0])
            changes.update(address=place["address"], building=place["building"])
        for field, values in (("stage", self.stages), ("type", self.types), ("source", self.sources)):
            if field in fields:
                changes[field] = rng.choice([v for v in values if v != getattr(customer, field)])
        if rename and rng.random() < 0.05:
            changes["name"] = self.new_name(rng.choice(CITIES[rng.choice(self.regions)])[0])
        if lose and customer.status in ("potential", "following") and rng.random() < 0.03:
            changes["status"] = "lost"
        return {k: v for k, v in changes.items() if getattr(customer, k) != v}

    def change_info(self) -> bool:
        """C-3 by the owner's manager, applied directly; dealt customers often move region,
        so their later deals are in another region than the earlier ones."""
        dealt = self.rng.random() < 0.3
        customer_id = self.dealt.choice(self.rng) if dealt else self.owned()
        if customer_id is None:
            return False
        customer = self.customers[customer_id]
        assert customer.owner_id is not None
        changes = self.info_changes(customer, move=dealt, rename=True, lose=True)
        if not changes:
            return False
        ctx = self.context(self.manager_of(customer.owner_id))
        old_name = customer.name
        customer.change_info(ctx, changes, self.rng.choice(CHANGE_REASONS))
        new_index = old_index = None
        if "name" in changes:
            new_index = CustomerName.reserve(ctx, customer.name, customer_id, customer.number)
            self.names[new_index.id] = new_index
            old_index = self.names[CustomerName.id_for(old_name)]
            old_index.free(ctx)
        self.emit(customer, new_index, old_index)
        return True

    def request_change(self) -> bool:
        """AP-1: the owner asks for an info change; the policy sends it for approval."""
        found = self.holding()
        if found is None:
            return False
        customer_id, customer, requester = found
        move = customer.status == "dealt" and self.rng.random() < 0.3
        changes = self.info_changes(customer, move=move, rename=False, lose=False)
        if not changes:
            return False
        reason = self.rng.choice(CHANGE_REASONS)
        approval = Approval.request(
            self.context(requester), id=self.ids.uuid(), kind="customer_info_change", target_id=customer_id,
            payload={"customer_id": customer_id, "changes": changes, "reason": reason},
            summary="、".join(changes) + f"（{reason}）",
            approver_ids=sorted({self.manager_of(requester), self.director}),
        )
        self.emit(approval)
        self.awaiting.append(approval)
        return True

    def decide_change(self) -> bool:
        """AP-2: the requester's manager decides the oldest request; on approval the change is
        the requester's, with the approver on record, committed with the decision."""
        if not self.awaiting:
            return False
        approval = self.awaiting.popleft()
        customer = self.customers[approval.target_id]
        requester = approval.requester_id
        approver = self.manager_of(requester)
        ctx = self.context(approver)
        changes: dict[str, Any] = approval.payload["changes"]
        # As the handler would find it now: the requester must still hold it, something must change.
        still_possible = customer.owner_id == requester and not customer.deleted and any(
            getattr(customer, field) != value for field, value in changes.items()
        )
        if still_possible and self.rng.random() < 0.9:
            approval.decide(ctx, "approved", self.rng.choice(APPROVE_COMMENTS), True)
            as_requester = Context(actor_id=requester, command_id=ctx.command_id, at=ctx.at)
            customer.change_info(as_requester, changes, approval.payload["reason"], approver)
            self.emit(approval, customer)
        else:
            approval.decide(ctx, "rejected", self.rng.choice(REJECT_COMMENTS), True)
            self.emit(approval)
        return True

    # ---- sales ---------------------------------------------------------------------------

    def deal(self) -> bool:
        """D-1: a visited customer signs, most contracts with product lines; a first deal
        stops counting against the owner's cap."""
        rng = self.rng
        repeat = rng.random() < 0.3
        customer_id = (self.dealt if repeat else self.held).choice(rng)
        if customer_id is None:
            return False
        customer = self.customers[customer_id]
        owner = customer.owner_id
        if owner is None or customer.status not in ("following", "dealt"):
            return False
        ctx = self.context(owner)
        signed_on = self.day(ctx)
        lines: list[dict[str, Any]] = []
        amount: Decimal | None = None
        if rng.random() < 0.7:
            chosen = rng.sample(self.products, min(len(self.products), rng.choice((1, 1, 1, 2, 2, 3))))
            for product in chosen:
                assert product.price is not None
                lines.append({"product_id": str(product.id), "quantity": quantity(rng.choice(QUANTITIES)),
                              "unit_price": money(product.price * rng.choice(DISCOUNTS))})
            name = f"{chosen[0].name}采购合同"
        else:
            amount = money(rng.randint(20, 2000) * 100)
            name = rng.choice(SERVICE_CONTRACTS)
        self.contract_count += 1
        contract = Contract.sign(
            ctx, id=self.ids.uuid(), customer_id=customer_id,
            number=f"HT{signed_on:%Y%m}{self.contract_count:06d}", name=name, signed_on=signed_on,
            amount=amount, lines=lines, salesperson_id=owner,
        )
        contract_id = str(contract.id)
        index = ContractNumber.reserve(ctx, contract.number, contract_id)
        first = customer.record_deal(ctx, contract_id, contract.number, contract.amount, signed_on)
        profile = self.profiles[owner]
        if first:
            profile.let_go(ctx, customer_id, "dealt")
        self.emit(contract, index, customer, profile if first else None)
        self.contracts[contract_id] = contract
        self.to_invoice.add(contract_id)
        self.to_collect.add(contract_id)
        if lines:
            self.to_deliver.add(contract_id)
        if first:
            self.held.discard(customer_id)
            self.dealt.add(customer_id)
        region = customer.region or ""
        if self.deal_region.setdefault(customer_id, region) != region:
            self.regions_changed_between_deals.add(customer_id)
        return True

    def seller_of(self, contract: Contract) -> str | None:
        return self.customers[contract.customer_id].owner_id

    def portion(self, whole: Decimal) -> Decimal:
        return max(money(whole * self.rng.choice(PARTS)), Decimal("0.01"))

    def invoice(self) -> bool:
        """D-2: the rest of the contract, or a part of it."""
        contract_id = self.to_invoice.choice(self.rng)
        if contract_id is None:
            return False
        contract = self.contracts[contract_id]
        remaining = contract.amount - contract.invoiced
        seller = self.seller_of(contract)
        if remaining <= 0 or seller is None:
            self.to_invoice.discard(contract_id)
            return False
        amount = remaining if self.rng.random() < 0.6 else min(self.portion(remaining), remaining)
        customer = self.customers[contract.customer_id]
        ctx = self.context(seller)
        on = self.day(ctx)
        invoice_id = contract.invoice(ctx, amount, on)
        customer.record_invoice(ctx, contract_id, invoice_id, amount, on)
        self.emit(contract, customer)
        if contract.invoiced >= contract.amount:
            self.to_invoice.discard(contract_id)
        return True

    def payment(self) -> bool:
        """D-3: mostly what was invoiced and not yet paid; sometimes ahead of the invoice, and
        a few prepayments without a contract."""
        rng = self.rng
        if rng.random() < 0.05:
            return self.prepayment()
        contract_id = self.to_collect.choice(rng)
        if contract_id is None:
            return False
        contract = self.contracts[contract_id]
        outstanding = contract.amount - contract.collected
        seller = self.seller_of(contract)
        if outstanding <= 0 or seller is None:
            self.to_collect.discard(contract_id)
            return False
        invoiced_unpaid = contract.invoiced - contract.collected
        if invoiced_unpaid > 0:
            amount = invoiced_unpaid if rng.random() < 0.7 else self.portion(invoiced_unpaid)
        elif rng.random() < 0.2:
            amount = self.portion(outstanding)
        else:
            return False
        amount = min(amount, outstanding)
        customer = self.customers[contract.customer_id]
        ctx = self.context(seller)
        on, payment_id = self.day(ctx), self.ids.hex()
        contract.receive_payment(ctx, payment_id, amount, on)
        customer.record_payment(ctx, payment_id, contract_id, amount, on, contract.salesperson_id)
        self.emit(customer, contract)
        if contract.collected >= contract.amount:
            self.to_collect.discard(contract_id)
        return True

    def prepayment(self) -> bool:
        found = self.holding()
        if found is None:
            return False
        customer_id, customer, owner = found
        ctx = self.context(owner)
        customer.record_payment(ctx, self.ids.hex(), None, money(self.rng.randint(10, 500) * 100),
                                self.day(ctx), owner)
        self.emit(customer)
        return True

    # ---- products and stock --------------------------------------------------------------

    def open_catalogue(self) -> None:
        """G-1..G-3: products with codes P000001…, priced, and first stock in both warehouses."""
        size = max(8, min(sum(len(specs) for _, specs, _, _ in CATALOGUE), self.customers_wanted // 100))
        offered = [(name, spec, unit, cost) for name, specs, unit, cost in CATALOGUE for spec in specs]
        for name, spec, unit, cost in offered[:size]:
            ctx = self.context(self.keeper)
            product = Product.create(ctx, id=self.ids.uuid(), code=f"P{len(self.products) + 1:06d}", name=name,
                                     spec=spec, unit=unit)
            self.emit(product)
            price = money(Decimal(cost) * self.rng.choice((Decimal("1.3"), Decimal("1.45"), Decimal("1.6"))))
            product.change_price(self.context(self.director), price, self.day(ctx), "新品定价")
            self.emit(product)
            self.products.append(product)
            self.base_cost[str(product.id)] = Decimal(cost)
            for warehouse in self.warehouses:
                if warehouse == self.warehouses[0] or self.rng.random() < 0.5:
                    self.stock_in(str(product.id), warehouse, quantity(self.rng.choice((50, 100, 200, 300))))

    def stock(self, product_id: str, warehouse: str) -> ProductStock | None:
        return self.stocks.get(ProductStock.id_for(product_id, warehouse))

    def stock_in(self, product_id: str, warehouse: str, qty: Decimal) -> None:
        """G-2: goods in at a cost around the product's usual one."""
        ctx = self.context(self.keeper)
        stock = self.stock(product_id, warehouse)
        if stock is None:
            stock = ProductStock.open(ctx, product_id, warehouse)
            self.stocks[stock.id] = stock
        cost = unit_cost(self.base_cost[product_id] * Decimal(self.rng.randint(900, 1100)) / 1000)
        stock.receive(ctx, qty, cost, "stock_in",
                      {"stock_in_id": self.ids.hex(), "received_on": self.day(ctx).isoformat()})
        self.emit(stock)

    def restock(self) -> bool:
        product = self.rng.choice(self.products)
        warehouse = self.warehouses[0] if self.rng.random() < 0.7 else self.rng.choice(self.warehouses)
        self.stock_in(str(product.id), warehouse, quantity(self.rng.choice((20, 50, 100, 200))))
        return True

    def change_price(self) -> bool:
        """G-3: the director reprices a product (a manager needs no approval)."""
        product = self.rng.choice(self.products)
        assert product.price is not None
        new = money(product.price * self.rng.choice((Decimal("0.95"), Decimal("1.03"), Decimal("1.05"))))
        if new == product.price:
            return False
        ctx = self.context(self.director)
        product.change_price(ctx, new, self.day(ctx), "市场调价")
        self.emit(product)
        return True

    def supplied(self, product_id: str, qty: Decimal, coming_back: str | None = None) -> str:
        """A warehouse that can give `qty` (the main one preferred); when none can, the
        keeper stocks one up first, as a command of its own."""
        order = list(self.warehouses)
        if self.rng.random() < 0.3:
            self.rng.shuffle(order)
        for warehouse in order:
            stock = self.stock(product_id, warehouse)
            available = (stock.quantity if stock else Decimal(0)) + (qty if warehouse == coming_back else 0)
            if available >= qty:
                return warehouse
        self.stock_in(product_id, order[0], quantity(qty + self.rng.choice((20, 50, 100, 200))))
        return order[0]

    def deliver(self) -> bool:
        """G-4: all that is left of some products of a contract, or a part; goods leave at
        the warehouse's average cost."""
        rng = self.rng
        contract_id = self.to_deliver.choice(rng)
        if contract_id is None:
            return False
        contract = self.contracts[contract_id]
        delivered = contract.delivered_net()
        left = [(p, q - delivered.get(p, Decimal(0))) for p, q in contract.ordered().items()]
        left = [(p, q) for p, q in left if q > 0]
        if not left:
            self.to_deliver.discard(contract_id)
            return False
        wanted = [(p, q) for p, q in left if len(left) == 1 or rng.random() < 0.8] or left[:1]
        plan = []
        for product_id, remaining in wanted:
            qty = remaining
            if remaining >= 2 and rng.random() < 0.25:
                qty = quantity((remaining / 2).to_integral_value(rounding=ROUND_CEILING))
            plan.append((product_id, self.supplied(product_id, qty), qty))
        ctx = self.context(self.keeper)
        delivery_id = self.ids.hex()
        ref = {"contract_id": contract_id, "delivery_id": delivery_id}
        lines, stocks = [], []
        for product_id, warehouse, qty in plan:
            stock = self.stock(product_id, warehouse)
            assert stock is not None
            cost = stock.issue(ctx, qty, "delivery", ref)
            lines.append({"product_id": product_id, "quantity": qty, "warehouse": warehouse, "unit_cost": cost})
            stocks.append(stock)
        contract.deliver(ctx, delivery_id, self.day(ctx), lines)
        self.emit(contract, *stocks)
        self.deliveries.add((contract_id, delivery_id))
        delivered = contract.delivered_net()
        if all(q <= delivered.get(p, Decimal(0)) for p, q in contract.ordered().items()):
            self.to_deliver.discard(contract_id)
        return True

    def returnable_line(self) -> tuple[Contract, str, dict[str, Any], Decimal] | None:
        """A delivered line some of which can still come back."""
        picked = self.deliveries.choice(self.rng)
        if picked is None:
            return None
        contract_id, delivery_id = picked
        contract = self.contracts[contract_id]
        candidates = []
        for line in contract.delivery_lines(delivery_id):
            left = contract.returnable(delivery_id, line["product_id"], line["warehouse"])
            if left >= 1:
                candidates.append((line, left))
        if not candidates:
            self.deliveries.discard(picked)
            return None
        line, left = self.rng.choice(candidates)
        return contract, delivery_id, line, left

    def return_goods(self) -> bool:
        """G-5: a few units come back at the cost they left with."""
        found = self.returnable_line()
        if found is None:
            return False
        contract, delivery_id, line, left = found
        product_id, warehouse = line["product_id"], line["warehouse"]
        qty = quantity(self.rng.randint(1, int(min(left, Decimal(3)))))
        cost = contract.delivery_cost(delivery_id, product_id, warehouse)
        amount = money(qty * contract.unit_price(product_id))
        ctx = self.context(self.keeper)
        return_id = self.ids.hex()
        stock = self.stock(product_id, warehouse)
        assert stock is not None
        stock.receive(ctx, qty, cost, "return", {"contract_id": str(contract.id), "return_id": return_id})
        contract.take_back(ctx, return_id, delivery_id, self.day(ctx), [
            {"product_id": product_id, "warehouse": warehouse, "quantity": qty, "unit_cost": cost,
             "amount": amount},
        ])
        self.emit(contract, stock)
        return True

    def exchange(self) -> bool:
        """G-6: units come back at their delivery cost, as many leave again at the average
        cost of a warehouse that may be the other one."""
        found = self.returnable_line()
        if found is None:
            return False
        contract, delivery_id, line, left = found
        product_id, back_warehouse = line["product_id"], line["warehouse"]
        qty = quantity(self.rng.randint(1, int(min(left, Decimal(2)))))
        out_warehouse = self.supplied(product_id, qty, coming_back=back_warehouse)
        back_cost = contract.delivery_cost(delivery_id, product_id, back_warehouse)
        ctx = self.context(self.keeper)
        exchange_id = self.ids.hex()
        ref = {"contract_id": str(contract.id), "exchange_id": exchange_id}
        back, out = self.stock(product_id, back_warehouse), self.stock(product_id, out_warehouse)
        assert back is not None and out is not None
        back.receive(ctx, qty, back_cost, "exchange_in", ref)
        move = {"product_id": product_id, "quantity": qty, "back_warehouse": back_warehouse,
                "back_cost": back_cost, "out_warehouse": out_warehouse}
        move["out_cost"] = out.issue(ctx, qty, "exchange_out", ref)
        contract.exchange(ctx, exchange_id, delivery_id, self.day(ctx), [move])
        self.emit(contract, back, out if out is not back else None)
        self.deliveries.add((str(contract.id), exchange_id))
        return True

    # ---- the summary ---------------------------------------------------------------------

    def past_follow_days(self) -> int:
        """Held customers a pool sweep at the end would return (A-1): the generator runs no sweeps."""
        default = int(self.settings.rules["default_max_follow_days"])
        count = 0
        for n in range(len(self.held)):
            customer = self.customers[self.held.at(n)]
            assert customer.owner_id is not None
            deadline = customer.follow_deadline(self.profiles[customer.owner_id].max_follow_days or default)
            count += deadline is not None and deadline <= END
        return count

    def summary(self, written: int, seconds: float) -> dict[str, Any]:
        table = self.store.recorder.events_table_name  # type: ignore[attr-defined]
        with self.store.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT topic, COUNT(*) FROM {table} GROUP BY topic")).all()
            first, last = conn.execute(
                text(f"SELECT MIN(id), MAX(id) FROM {table}")
            ).one()
            stored_sequences = conn.execute(select(func.count()).select_from(sequences)).scalar_one()
            people = conn.execute(select(func.count()).select_from(credentials)).scalar_one()
        mix = {str(topic).split(":", 1)[-1]: int(count) for topic, count in rows}
        return {
            "events": written,
            "seconds": round(seconds, 2),
            "events_per_second": round(written / seconds) if seconds else 0,
            "positions": [first, last],
            "departments": len(self.departments),
            "salespeople": len(self.salespeople),
            "people": people,
            "customers": self.registered,
            "in_pool": len(self.pool),
            "products": len(self.products),
            "contracts": len(self.contracts),
            "awaiting_approval": len(self.awaiting),
            "customers_dealt_in_two_regions": len(self.regions_changed_between_deals),
            "held_past_follow_days": self.past_follow_days(),
            "sequences": stored_sequences,
            "last_moment": self.now.isoformat(),
            "refused": dict(sorted(self.refused.items())),
            "mix": dict(sorted(mix.items(), key=lambda item: (-item[1], item[0]))),
        }


def refuse_non_empty(service: Service) -> int:
    """The head of an empty store (the settings alone); raises when anything else is there."""
    head = service.store.head()
    with service.store.engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(credentials)).scalar_one()
        numbers = conn.execute(select(func.count()).select_from(sequences)).scalar_one()
    if head > 1 or people or numbers:
        raise RuntimeError(f"the store is not empty ({head} events, {people} people); give a fresh database")
    return head


def generate(database_url: str, customers: int, events: int, seed: int,
             progress: Progress | None = None) -> dict[str, Any]:
    """Fill an empty store with an organisation and `customers` customers whose lives over
    two years make about `events` events (within a few events), the same ones for the same
    seed and sizes. `progress(written, wanted)` is called now and then. Returns a summary:
    events written, seconds, events per second, the event mix and more."""
    if customers < 1 or events < 1:
        raise ValueError("customers and events must be at least 1")
    ids = Ids(seed)
    with seeded_uuid4(ids.uuid):
        clock = ManualClock(Timeline(END, SPAN_DAYS).at(0.0) - timedelta(days=3))
        service = bootstrap(Config(database_url=database_url, mode="distributed"), clock=clock)
        try:
            start_head = refuse_non_empty(service)
            # Cheap hashing for the many benchmark logins; never do this outside benchmarks.
            service.deps.credentials.hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
            started = time.perf_counter()
            simulation = Simulation(service, ids, customers, events, seed, progress)
            simulation.build_organisation(*organisation_shape(customers))
            simulation.run(start_head)
            simulation.write_sequences()
            simulation.take_snapshots()
            seconds = time.perf_counter() - started
            return simulation.summary(service.store.head() - start_head, seconds)
        finally:
            service.close()


def main(argv: list[str] | None = None) -> int:
    """The command line: generate, then print the summary."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description="Generate benchmark data.")
    parser.add_argument("--url", required=True, help="database URL of an empty store")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def report(written: int, wanted: int) -> None:
        print(f"  {written:>10,} / {wanted:,} events  {time.perf_counter() - started:7.1f} s",
              file=sys.stderr, flush=True)

    try:
        summary = generate(args.url, args.customers, args.events, args.seed, report)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    mix = summary.pop("mix")
    print(f"events written: {summary['events']:,} in {summary['seconds']} s "
          f"({summary['events_per_second']:,} events/s)")
    for key, value in summary.items():
        if key not in ("events", "seconds", "events_per_second"):
            print(f"{key}: {value}")
    print("event mix:")
    total = sum(mix.values())
    for name, count in mix.items():
        print(f"  {name:<36} {count:>9,}  {100 * count / total:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
