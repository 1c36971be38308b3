import { describe, expect, it } from 'vitest';
import { eventually, login } from '@crm/testing';
// @ts-expect-error plain ESM script shared with `pnpm start`
import { seedDemoData } from '../../scripts/seed.mjs';
import { e2ePlatform, gatewayCalls } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('demo-seed');
const { asUser } = gatewayCalls(platform);

describe(`the demo data of pnpm start (logs: ${logDir})`, () => {
  it('seeds once, and the reports show its orders (analytics from the sales events)', async () => {
    const seed = () => seedDemoData({ gatewayUrl: platform.gatewayUrl, keycloakUrl: infra.keycloakUrl, realm: infra.realm });
    expect(await seed()).toBe(true);
    expect(await seed()).toBe(false);
    const analyst = asUser(await login(infra, 'analyst'));
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const reports = await eventually(async () => {
      const data = await analyst(`query($d: String!) {
        salesTrend(from: $d, to: $d, granularity: DAY) { orders total { amountMinor } }
        customerDistribution(level: CITY, country: "CN") { rows { key customers orders } }
        campaignEffect(from: $d, to: $d) { rows { campaignCode orders } } }`, { d: today });
      return data.salesTrend.orders === 5 && data.customerDistribution.rows.length === 3 ? data : undefined;
    }, 60_000, 500);
    // 2×¥1,299 + ¥3,000; ¥4,999; ¥1,299 + ¥3,000; ¥4,999; 3×¥1,299.
    expect(reports.salesTrend.total.amountMinor).toBe(2_598_00 + 3_000_00 + 4_999_00 + 1_299_00 + 3_000_00 + 4_999_00 + 3_897_00);
    expect(reports.customerDistribution.rows).toEqual([
      { key: '上海', customers: 1, orders: 2 },
      { key: '北京', customers: 1, orders: 2 },
      { key: '深圳', customers: 1, orders: 1 },
    ]);
    expect(reports.campaignEffect.rows).toEqual([{ campaignCode: 'SPRING', orders: 2 }]);
  }, 180_000);
});
