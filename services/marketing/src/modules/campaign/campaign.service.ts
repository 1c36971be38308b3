import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { moneySchema } from '@crm/money';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import { campaignCreated } from './campaign.events.js';
import { CampaignException } from './campaign.errors.js';
import { CAMPAIGN_CHANNELS, CAMPAIGN_STATUSES, type CampaignModel, type CampaignRecord } from './campaign.model.js';

/** Who reads campaigns (admins pass every check). */
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;
const CREATORS = [Role.MARKETER] as const;

const instant = z.date({ error: 'An ISO 8601 instant' }).refine((date) => !Number.isNaN(date.getTime()), 'An ISO 8601 instant');

export const createCampaignInput = z
  .object({
    name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
    goal: z
      .string()
      .trim()
      .max(1000, 'At most 1000 characters')
      .nullish()
      .transform((value) => (value ? value : null)),
    channel: z.enum(CAMPAIGN_CHANNELS),
    budget: moneySchema(),
    status: z.enum(CAMPAIGN_STATUSES).nullish().transform((value) => value ?? 'PLANNED'),
    startsAt: instant,
    endsAt: instant,
  })
  .superRefine((input, ctx) => {
    if (input.endsAt.getTime() <= input.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'Must be after startsAt' });
    }
  });
export type CreateCampaignInput = z.input<typeof createCampaignInput>;

/** The one facade resolvers call for campaigns. */
export class CampaignService {
  constructor(
    private readonly campaigns: CampaignModel,
    private readonly relay: OutboxRelay,
  ) {}

  async create(input: CreateCampaignInput, user: AuthUser): Promise<CampaignRecord> {
    requireRole(user, CREATORS);
    const parsed = createCampaignInput.safeParse(input);
    if (!parsed.success) {
      throw new CampaignException('CAMPAIGN_INVALID_INPUT', 'Invalid campaign', fieldProblems(parsed.error.issues));
    }
    const now = new Date();
    const campaign = new this.campaigns({ ...parsed.data, _id: new Types.ObjectId(), ownerId: user.id, createdAt: now, updatedAt: now });
    // The record and its event are one insert: both are stored or neither is.
    campaign.set(OUTBOX_FIELD, [campaignCreated(campaign.toObject())]);
    await campaign.save();
    this.relay.notify(this.campaigns, campaign._id);
    return campaign.toObject();
  }

  async get(id: string, user: AuthUser): Promise<CampaignRecord | null> {
    requireRole(user, READERS);
    if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.campaigns.findById(id).lean<CampaignRecord>().exec();
  }

  async list(args: PageArgs, user: AuthUser): Promise<Page<CampaignRecord>> {
    requireRole(user, READERS);
    return paginate(this.campaigns, {}, args);
  }
}
