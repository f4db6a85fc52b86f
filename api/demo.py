"""A demo organisation for `make run`: people of every role, ~200 customers, pool, shares, visits."""

from __future__ import annotations

import random
from datetime import timedelta

from aggregates.organisation import Username
from aggregates.settings import DEFAULT_DICTIONARIES, type_names
from commands import customers as cc
from commands import organisation as oc
from commands.bootstrap import Service
from readmodels.org import Viewer

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
    system = Viewer("system", "system", frozenset({"admin"}), None)
    dept = oc.create_department(oc.CreateDepartment(name="销售部"), system, deps).ids["id"]
    east = oc.create_department(oc.CreateDepartment(name="华东销售组", parent_id=dept), system, deps).ids["id"]
    ids: dict[str, str] = {}
    for username, name, roles, position in DEMO_PEOPLE:
        department = east if "sales" in roles else dept
        ids[username] = oc.create_person(
            oc.CreatePerson(name=name, username=username, password=DEMO_PASSWORD, roles=roles,
                            department_id=department, position=position,
                            max_customers=80 if "sales" in roles else None),
            system, deps,
        ).ids["id"]
    oc.change_department(oc.ChangeDepartment(dept, {"manager_ids": [ids["manager"]]}), system, deps)
    sales = [Viewer(ids[u], u, frozenset({"sales"}), east) for u in ("sales1", "sales2", "sales3")]
    types = type_names(DEFAULT_DICTIONARIES["customer_types"])
    names = rng.sample(sorted(f"{c}{w}{k}" for c in CITIES for w in WORDS for k in KINDS), 200)
    for n, name in enumerate(names):
        owner = sales[n % 3]
        to_pool = n % 5 == 0
        contact = {"name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "总", "经理"]),
                   "phone": f"13{rng.randint(100000000, 999999999)}", "title": "采购负责人"}
        created = cc.register_customer(
            cc.RegisterCustomer(
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
        if n % 7 == 1:
            other = sales[(n + 1) % 3]
            cc.change_shares(customer_id, [other.person_id], [], owner, deps)
        for v in range(n % 4):
            cc.record_visit(
                cc.RecordVisit(
                    customer_id=customer_id,
                    visited_at=deps.clock.now() - timedelta(days=3 * v, hours=rng.randint(0, 8)),
                    stage=rng.choice(DEFAULT_DICTIONARIES["stages"]), notes="上门拜访，介绍产品方案",
                    address=contact["name"] + "办公室",
                ),
                owner, deps,
            )
    return True
