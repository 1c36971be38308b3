import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { ContractRecord, ContractStatus } from './contract.model.js';

/** Every event the contract aggregate publishes (topic `<prefix>.contract`; key = contract id). */
export const ContractEventType = {
  CREATED: 'contract.created',
  UPDATED: 'contract.updated',
  ACTIVATED: 'contract.activated',
  TERMINATED: 'contract.terminated',
  EXPIRED: 'contract.expired',
  RENEWAL_DUE: 'contract.renewal-due',
} as const;
export type ContractEventType = (typeof ContractEventType)[keyof typeof ContractEventType];

export const CONTRACT_EVENT_SOURCE = '/crm/sales';

/** What every contract event carries. */
export interface ContractEventData {
  contractId: string;
  customerId: string;
  ownerId: string;
  department: string | null;
  title: string;
  status: ContractStatus;
  value: Money;
  startDate: string;
  endDate: string;
  signedAt: string | null;
  quoteId: string | null;
  orderIds: string[];
  version: number;
}

function dataOf(contract: ContractRecord): ContractEventData {
  return {
    contractId: contract._id.toHexString(),
    customerId: contract.customerId,
    ownerId: contract.ownerId,
    department: contract.department ?? null,
    title: contract.title,
    status: contract.status,
    value: { amountMinor: contract.value.amountMinor, currency: contract.value.currency },
    startDate: contract.startDate.toISOString(),
    endDate: contract.endDate.toISOString(),
    signedAt: contract.signedAt?.toISOString() ?? null,
    quoteId: contract.quoteId ?? null,
    orderIds: contract.orderIds ?? [],
    version: contract.version,
  };
}

export function contractEvent(type: ContractEventType, contract: ContractRecord, extra: Record<string, unknown> = {}, time = contract.updatedAt): CloudEvent {
  return createEvent({ source: CONTRACT_EVENT_SOURCE, type, subject: contract._id.toHexString(), time, data: { ...dataOf(contract), ...extra } });
}
