// The Chinese names of the contract's codes the console shows: customer statuses, the events
// of a customer's history and the fields they change. A code without a name shows as itself.
export const STATUS = { potential: "潜在客户", following: "跟进中", dealt: "已成交", lost: "已流失" };

export const EVENT = {
  Registered: "登记", InfoChanged: "修改资料", Restored: "恢复", ContactAdded: "添加联系人",
  ContactEdited: "修改联系人", ContactRemoved: "删除联系人", SharesChanged: "修改共享", Claimed: "领取",
  ReturnedToPool: "退回公海", Transferred: "转移", Assigned: "分配", Deleted: "删除", VisitRecorded: "拜访",
  PoolWarned: "回公海提醒", LogoChanged: "更换标志", DealRecorded: "成交", InvoiceRecorded: "开票",
  InvoiceCredited: "红字发票", DealAdjusted: "成交调整", PaymentRecorded: "回款",
};

export const FIELD = {
  number: "编号", name: "名称", type: "类型", source: "来源", region: "地区", stage: "阶段", status: "状态",
  address: "地址", building: "楼宇", owner_name: "负责人", owner_id: "负责人", contacts: "联系人",
  in_pool: "在公海", shared_with: "共享给", shared_departments: "共享部门", visit_count: "拜访次数",
  registered_by: "登记人", created_at: "登记时间", deleted: "已删除", deal_total: "成交总额",
  invoiced_total: "开票总额", collected_total: "回款总额", receivable: "应收", lat: "纬度", lng: "经度",
};

export const named = (names, code) => names[code] || code;

export const APPROVAL_KIND = {
  customer_info_change: "客户资料修改", price_change: "调价", target: "指标", transfer: "客户转移", claim: "领取客户",
  return: "退货", exchange: "换货", contact_add: "添加联系人", contact_change: "修改联系人",
  contact_remove: "删除联系人", share_change: "修改共享",
};

export const APPROVAL_STATUS = { pending: "待审批", approved: "已通过", rejected: "已驳回", withdrawn: "已撤回" };

// The operation log's names (`resource.verb`, docs/api.md "Operation log names") in Chinese:
// the resource and the verb each by their own name, a name without one shown as itself.
const RESOURCE = {
  approval: "审批", contact: "联系人", contract: "合同", credit_note: "红字发票", customer: "客户", customers: "批量客户",
  delivery: "发货", delivery_request: "发货申请", department: "部门", exchange: "换货", exchange_request: "换货申请",
  import: "导入", invoice: "发票", notification: "通知", operation_log: "操作日志", password: "密码", payment: "回款",
  person: "人员", pool: "公海", problem: "问题", product: "产品", projection: "读模型", report: "报表", return: "退货",
  return_request: "退货申请", session: "会话", settings: "设置", stock: "库存", stream_ticket: "实时推送", target: "指标",
  visit: "拜访", warehouse_request: "仓库请求", work_report: "工作报告",
};
const VERB = {
  approve: "通过", reject: "驳回", withdraw: "撤回", add: "添加", edit: "修改", remove: "删除", create: "新建",
  assign: "分配", change: "修改", claim: "领取", delete: "删除", logo: "更换标志", recall: "收回", register: "登记",
  release: "释放", restore: "恢复", share: "共享", transfer: "转移", import: "导入", record: "登记", read: "查看",
  export: "导出", sweep: "回收", report: "上报", resolve: "解决", price_change: "调价", rebuild: "重建",
  sign_in: "登录", sign_out: "退出", receive: "入库", set: "设置", revise: "调整", cancel: "取消", submit: "提交",
  rejects: "拒收行",
};
export function operationName(code) {
  const parts = String(code || "").split(".");
  if (parts.length < 2 || !RESOURCE[parts[0]]) return code;
  const verbs = parts.slice(1).map(v => VERB[v]);
  return verbs.every(Boolean) ? `${RESOURCE[parts[0]]}·${verbs.join("")}` : code;
}
