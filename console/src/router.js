// Hash routes: the service serves one page at "/", and every screen is a fragment of it, so
// no route of the console can shadow a route of the API.
import { createRouter, createWebHashHistory } from "vue-router";
import { loadMe, session } from "./lib/api.js";
import Contract from "./views/Contract.vue";
import Contracts from "./views/Contracts.vue";
import Customer from "./views/Customer.vue";
import Customers from "./views/Customers.vue";
import Dashboard from "./views/Dashboard.vue";
import Login from "./views/Login.vue";
import Approvals from "./views/Approvals.vue";
import Reports from "./views/Reports.vue";
import Admin from "./views/Admin.vue";
import Warehouse from "./views/Warehouse.vue";
import Inbox from "./views/Inbox.vue";
import Products from "./views/Products.vue";
import OperationLog from "./views/OperationLog.vue";
import People from "./views/People.vue";
import Profile from "./views/Profile.vue";
import Targets from "./views/Targets.vue";
import WorkReports from "./views/WorkReports.vue";

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: "/", redirect: "/dashboard" },
    { path: "/login", component: Login, meta: { public: true, title: "登录" } },
    { path: "/dashboard", component: Dashboard, meta: { title: "业务门户" } },
    { path: "/customers", component: Customers, meta: { title: "客户" } },
    { path: "/customers/:id", component: Customer, props: true, meta: { title: "客户详情" } },
    { path: "/contracts", component: Contracts, meta: { title: "合同" } },
    { path: "/contracts/:id", component: Contract, props: true, meta: { title: "合同详情" } },
    { path: "/targets", component: Targets, meta: { title: "指标" } },
    { path: "/work-reports", component: WorkReports, meta: { title: "工作报告" } },
    { path: "/approvals", component: Approvals, meta: { title: "审批" } },
    { path: "/reports", component: Reports, meta: { title: "报表" } },
    { path: "/reports/:id", component: Reports, props: true, meta: { title: "报表" } },
    { path: "/products", component: Products, meta: { title: "产品与库存" } },
    { path: "/warehouse", component: Warehouse, meta: { title: "仓库" } },
    { path: "/people", component: People, meta: { title: "人员与部门" } },
    { path: "/operation-log", component: OperationLog, meta: { title: "操作日志" } },
    { path: "/admin", component: Admin, meta: { title: "系统设置" } },
    { path: "/notifications", component: Inbox, meta: { title: "通知" } },
    { path: "/profile", component: Profile, meta: { title: "个人设置" } },
    { path: "/:rest(.*)", redirect: "/dashboard" },
  ],
});

router.beforeEach(async to => {
  if (to.meta.public) return true;
  if (!session.token) return { path: "/login", query: { next: to.fullPath } };
  if (!session.me) {
    try { await loadMe(); } catch { return { path: "/login", query: { next: to.fullPath } }; }
  }
  return true;
});

router.afterEach(to => {
  document.title = `${to.meta.title || ""} · 销售管理系统`;
});
