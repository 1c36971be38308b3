// Demo data, written through the gateway as the demo users (so it exercises auth, validation,
// outbox and events like any client would). Idempotent: does nothing when customers exist.
export const DEMO_PASSWORD = 'crm-demo-2026';
export const DEMO_USERS = [
  { username: 'admin', role: 'admin (everything)' },
  { username: 'sales.manager', role: 'sales-manager' },
  { username: 'sales.rep', role: 'sales-rep (team sales-east)' },
  { username: 'sales.rep2', role: 'sales-rep (team sales-east)' },
  { username: 'service.manager', role: 'service-manager' },
  { username: 'service.agent', role: 'service-agent' },
  { username: 'service.agent2', role: 'service-agent' },
  { username: 'marketer', role: 'marketer' },
  { username: 'analyst', role: 'analyst' },
  { username: 'customer', role: 'customer (self-service)' },
  { username: 'customer2', role: 'customer (self-service)' },
];

const CUSTOMERS = [
  { name: 'Zhang Wei', email: 'zhang.wei@example.cn', phones: [{ number: '+86 138 0013 8000' }], organization: 'Tsinghua University', lifecycleStage: 'CUSTOMER', source: 'trade show', tags: ['edu', 'vip'], address: { country: 'CN', province: '北京', city: '北京' } },
  { name: 'Wang Fang', email: 'wang.fang@example.cn', organization: 'Peking University', lifecycleStage: 'PROSPECT', source: 'website', tags: ['edu'] },
  { name: 'Li Qiang', email: 'li.qiang@example.cn', organization: 'Huaxin Trading Co.', lifecycleStage: 'LOYAL', source: 'referral', tags: ['wholesale'], address: { country: 'CN', province: '上海', city: '上海' } },
  { name: 'Liu Yang', phones: [{ number: '+86 139 1000 2000' }], organization: 'Fudan University', lifecycleStage: 'LEAD', source: 'campaign' },
  { name: 'Chen Jing', email: 'chen.jing@example.cn', organization: 'Shenzhen Bright Tech', lifecycleStage: 'CUSTOMER', source: 'website', tags: ['tech'], address: { country: 'CN', province: '广东', city: '深圳' } },
  { name: 'Yang Min', email: 'yang.min@example.cn', organization: 'Zhejiang University', lifecycleStage: 'CHURNED', source: 'phone' },
];
const PRODUCTS = [
  { sku: 'CRM-PRO-1Y', name: 'CRM Pro licence (1 year)', category: 'Software', price: { amountMinor: 129900, currency: 'CNY' }, cost: { amountMinor: 20000, currency: 'CNY' } },
  { sku: 'CRM-ENT-1Y', name: 'CRM Enterprise licence (1 year)', category: 'Software', price: { amountMinor: 499900, currency: 'CNY' } },
  { sku: 'SVC-ONBOARD', name: 'Onboarding service', category: 'Services', price: { amountMinor: 300000, currency: 'CNY' } },
];

async function login(keycloakUrl, realm, username) {
  const response = await fetch(`${keycloakUrl}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'crm-cli', username, password: DEMO_PASSWORD, scope: 'openid' }),
  });
  if (!response.ok) throw new Error(`login ${username}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

export async function seedDemoData({ gatewayUrl, keycloakUrl, realm = 'crm' }) {
  const as = async (username) => {
    const token = await login(keycloakUrl, realm, username);
    return async (query, variables = {}) => {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = await response.json();
      if (body.errors) throw new Error(`seed as ${username}: ${JSON.stringify(body.errors)}`);
      return body.data;
    };
  };
  const admin = await as('admin');
  if ((await admin('{ customers(first: 1) { totalCount } }')).customers.totalCount > 0) return false;

  const rep = await as('sales.rep');
  const customerIds = [];
  for (const input of CUSTOMERS) {
    const data = await rep('mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', { input });
    customerIds.push(data.createCustomer.id);
  }
  const manager = await as('sales.manager');
  const productIds = [];
  for (const input of PRODUCTS) {
    const { createProduct } = await manager('mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }', { input });
    await manager('mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }', { input: { productId: createProduct.id, quantity: 100 } });
    productIds.push(createProduct.id);
  }
  // A few orders, so the sales reports, customer values and products bought together have something to show.
  const orders = [
    [0, [[0, 2], [2, 1]], 'SPRING'], [2, [[1, 1]], null], [4, [[0, 1], [2, 1]], null], [0, [[1, 1]], null], [2, [[0, 3]], 'SPRING'],
  ];
  for (const [customer, lines, campaignCode] of orders) {
    await rep('mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', {
      input: { customerId: customerIds[customer], currency: 'CNY', lines: lines.map(([product, quantity]) => ({ productId: productIds[product], quantity })), ...(campaignCode ? { campaignCode } : {}) },
    });
  }
  // A demo service queue with both agents: technical and after-sales tickets are handed to them in turn.
  const userIdOf = async (username) => JSON.parse(Buffer.from((await login(keycloakUrl, realm, username)).split('.')[1], 'base64url').toString()).sub;
  const serviceManager = await as('service.manager');
  await serviceManager('mutation($input: CreateQueueInput!) { createQueue(input: $input) { id } }', {
    input: { name: 'Demo support', skillGroup: 'general support', members: [await userIdOf('service.agent'), await userIdOf('service.agent2')], ticketTypes: ['TECHNICAL', 'AFTER_SALES', 'COMPLAINT'] },
  });
  const agent = await as('service.agent');
  const tickets = [
    { customerId: customerIds[0], subject: 'Cannot export the customer list', type: 'TECHNICAL', priority: 'HIGH', channel: 'PHONE' },
    { customerId: customerIds[2], subject: 'Invoice shows the wrong address', type: 'AFTER_SALES', channel: 'EMAIL' },
    { customerId: customerIds[5], subject: 'Unhappy with response times', type: 'COMPLAINT', priority: 'URGENT', channel: 'CHAT' },
  ];
  for (const input of tickets) await agent('mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }', { input });
  const marketer = await as('marketer');
  const year = new Date().getUTCFullYear() + 1;
  await marketer('mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }', {
    input: { name: 'Spring education fair', goal: 'Leads from universities', channel: 'EVENT', budget: { amountMinor: 5_000_000, currency: 'CNY' }, startsAt: `${year}-03-01T00:00:00Z`, endsAt: `${year}-03-31T00:00:00Z` },
  });
  return true;
}
