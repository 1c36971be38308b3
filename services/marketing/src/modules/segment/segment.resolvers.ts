import { requireRole } from '@crm/auth';
import { connectionOf } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { ageOn } from '../customer-profile/customer-profile.service.js';
import { SEGMENT_READERS } from './segment.service.js';
import type { SegmentRule } from './segment.rules.js';

export const segmentResolvers: Resolvers = {
  Query: {
    segment: (_parent, { id }, { services, user }) => services.segments.get(id, user),
    segments: async (_parent, { first, after }, { services, user }) => connectionOf(await services.segments.list({ first, after }, user)),
    previewSegment: (_parent, { rule }, { services, user }) => services.segments.preview(rule as SegmentRule, user),
  },
  Mutation: {
    createSegment: (_parent, { input }, { services, user }) => services.segments.create({ ...input, rule: input.rule as SegmentRule | null }, user),
    updateSegment: (_parent, { id, expectedVersion, input }, { services, user }) => services.segments.update(id, expectedVersion, { ...input, rule: input.rule as SegmentRule | null }, user),
    addSegmentMembers: (_parent, { id, customerIds }, { services, user }) => services.segments.addMembers(id, customerIds, user),
    removeSegmentMembers: (_parent, { id, customerIds }, { services, user }) => services.segments.removeMembers(id, customerIds, user),
    recomputeSegment: (_parent, { id }, { services, user }) => services.segments.recompute(id, user),
  },
  Segment: {
    __resolveReference: (reference, { services, user }) => services.segments.get(reference.id, user),
    id: (segment) => segment._id.toHexString(),
    rule: (segment) => segment.rule,
    memberCount: (segment, _args, { services }) => services.segments.memberCount(segment),
    memberIds: (segment, { first, after }, { services }) => services.segments.memberIds(segment, first ?? 100, after),
  },
  Customer: {
    __resolveReference: (reference) => ({ id: reference.id }),
    segments: (customer, _args, { services, user }) => services.segments.ofCustomer(customer.id, user),
    buyingProfile: async (customer, _args, { services, user }) => {
      requireRole(user, SEGMENT_READERS);
      const profile = await services.customerProfiles.get(customer.id);
      if (!profile) return null;
      return { totalSpend: profile.spend, paidOrderCount: profile.paidOrderCount, lastOrderAt: profile.lastOrderAt, valueTier: profile.valueTier, age: ageOn(profile.birthday, new Date()), openTickets: profile.openTickets, openComplaints: profile.openComplaints };
    },
  },
};
