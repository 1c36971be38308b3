import { describe, expect, it } from 'vitest';
import { eventually, login, uniqueName } from '@crm/testing';
import { e2ePlatform, gatewayCalls, userIdOf } from './platform.js';

// Administration and the audit trail through the gateway, with every service running (SYS-1, SYS-4).
const { infra, platform } = await e2ePlatform('security');
const { raw, asUser } = gatewayCalls(platform);
const [adminToken, repToken] = await Promise.all(['admin', 'sales.rep'].map((u) => login(infra, u)));
const admin = asUser(adminToken!);
const rep = asUser(repToken!);

const AUDIT = `query($f: AuditFilter) { auditLog(filter: $f, first: 50) { edges { node {
  actorId actorName operationType operationName rootFields sensitiveFields result errorCodes clientAddress requestId } } } }`;

describe('administration and audit through the gateway', () => {
  it('an admin creates an account; a sales rep may not; both attempts are in the audit trail', async () => {
    const username = uniqueName('e2e.user').toLowerCase().replace(/_/g, '.');
    const created = await admin(`mutation CreateAccount($input: CreateUserAccountInput!) { createUserAccount(input: $input) { id username roles } }`, {
      input: { username, email: `${username}@crm.example`, firstName: 'Lan', lastName: 'Zhou', roles: ['ANALYST'] },
    });
    expect(created.createUserAccount).toMatchObject({ username, roles: ['ANALYST'] });
    const refused = await raw(repToken!)(`mutation Sneak { createUserAccount(input: { username: "sneak.x", email: "sneak@crm.example", firstName: "S", lastName: "X", roles: [ADMIN] }) { id } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const entries = await eventually(async () => {
      const log = await admin(AUDIT, { f: { rootField: 'createUserAccount' } });
      const nodes = log.auditLog.edges.map((e: any) => e.node);
      return nodes.length >= 2 ? nodes : undefined;
    }, 20_000);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actorId: userIdOf(adminToken!), actorName: 'admin', operationType: 'MUTATION', operationName: 'CreateAccount', result: 'OK', errorCodes: [] }),
        expect.objectContaining({ actorId: userIdOf(repToken!), actorName: 'sales.rep', operationName: 'Sneak', result: 'ERROR', errorCodes: ['FORBIDDEN'] }),
      ]),
    );
    expect(entries[0].clientAddress).toBeTruthy();
    expect(entries[0].requestId).toBeTruthy();
  });

  it('records reads of sensitive fields by name, never their values; ordinary reads are not recorded', async () => {
    const number = '11010519491231002X';
    const created = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
      input: { name: uniqueName('Audit Person'), phones: [{ number: '13800138000' }], identityDocument: { type: 'PRC_RESIDENT_ID', number } },
    });
    const id = created.createCustomer.id as string;
    await rep(`query CustomerCard($id: ID!) { customer(id: $id) { name phones { number } identityDocument { type number } } }`, { id });
    await rep(`query CustomerName($id: ID!) { customer(id: $id) { name } }`, { id });

    const entries = await eventually(async () => {
      const log = await admin(AUDIT, { f: { actorId: userIdOf(repToken!), sensitiveField: 'Customer.identityDocument' } });
      const nodes = log.auditLog.edges.map((e: any) => e.node).filter((n: any) => n.operationName === 'CustomerCard');
      return nodes.length > 0 ? nodes : undefined;
    }, 20_000);
    expect(entries[0]).toMatchObject({ operationType: 'QUERY', rootFields: ['customer'], sensitiveFields: ['Customer.identityDocument', 'Customer.phones', 'IdentityDocument.number'] });
    const everything = JSON.stringify(await admin(AUDIT, { f: { actorId: userIdOf(repToken!) } }));
    expect(everything).not.toContain(number);
    expect(everything).not.toContain('13800138000');
    expect(everything).not.toContain('CustomerName');
  });
});
