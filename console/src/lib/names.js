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
