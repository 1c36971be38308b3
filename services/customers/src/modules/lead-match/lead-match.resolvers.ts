import { Types } from 'mongoose';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { nameSortKeyOf } from '../customer/customer.search.js';
import type { CustomerService } from '../customer/customer.service.js';
import { normalisePhone } from '../customer/customer.validation.js';

/** What `CustomerService.duplicatesOf` compares. */
type DuplicateProbe = Parameters<CustomerService['duplicatesOf']>[0];

/** What the gateway passes for a `Lead` (its key and the fields `possibleCustomerMatches` requires, from sales). */
export interface LeadRepresentation {
  id: string;
  name?: string | null;
  company?: string | null;
  email?: string | null;
  phones?: ReadonlyArray<string | null> | null;
}

/**
 * The lead as a customer-to-be, in the terms of the duplicate rules (CUS-6): its phones (E.164), email
 * (lower case) and, with a company, its name's sort key in that organisation. The probe's own id is
 * fresh, so no stored customer is excluded as "itself".
 */
export function probeOf(lead: LeadRepresentation): DuplicateProbe {
  const phones = [...new Set((lead.phones ?? []).flatMap((raw) => (raw ? [normalisePhone(raw)] : [])).filter((n): n is string => n !== null))];
  const company = lead.company?.trim() || null;
  return {
    _id: new Types.ObjectId(),
    phones: phones.map((number) => ({ number, kind: 'MOBILE' as const })),
    email: lead.email?.trim().toLowerCase() || null,
    identity: null,
    nameSortKey: nameSortKeyOf(lead.name?.trim() ?? ''),
    organization: company,
  };
}

/** `Lead.possibleCustomerMatches` (SAL-2 duplicate check), with the caller's visibility of customers. */
export const leadMatchResolvers: Resolvers = {
  Lead: {
    // Nothing is stored here: the representation (with the @requires fields) is the lead.
    __resolveReference: (reference) => reference,
    possibleCustomerMatches: (lead, _args, { services, user }) => services.customers.duplicatesOf(probeOf(lead as LeadRepresentation), user),
  },
};
