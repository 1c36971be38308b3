import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { PerKeySerializer } from '@crm/mongo';
import { PipelineException } from './pipeline.errors.js';
import { DEFAULT_PIPELINE_ID, DEFAULT_STAGES, kindOf, LOST, WON, type PipelineModel, type PipelineRecord, type PipelineStageRecord } from './pipeline.model.js';

/** Every staff role reads the stages (the board and forms need them); admins pass every check. */
const READERS = [Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;
const EDITORS = [Role.SALES_MANAGER] as const;

/** How long a read configuration is reused (see `current`). */
const CACHE_MS = 2000;

export const STAGE_KEY = /^[A-Z][A-Z0-9_]{1,39}$/;

export const pipelineStagesInput = z
  .array(
    z.object({
      key: z.string().trim().toUpperCase().regex(STAGE_KEY, '2 to 40 of A-Z, 0-9 and _, starting with a letter'),
      label: z.string().trim().min(1, 'Required').max(60, 'At most 60 characters'),
      probability: z.number().int('Whole percent').min(0, '0 to 100 (percent)').max(100, '0 to 100 (percent)'),
    }),
  )
  .min(3, 'At least one open stage, WON and LOST')
  .max(20, 'At most 20 stages')
  .superRefine((stages, ctx) => {
    const seen = new Map<string, number>();
    stages.forEach((stage, index) => {
      if (seen.has(stage.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `Duplicate key (also stage ${seen.get(stage.key)})` });
      else seen.set(stage.key, index);
    });
    for (const [key, probability] of [[WON, 100], [LOST, 0]] as const) {
      const index = stages.findIndex((stage) => stage.key === key);
      if (index < 0) {
        ctx.addIssue({ code: 'custom', path: [], message: `${key} is required (a terminal stage)` });
        continue;
      }
      if (stages[index]!.probability !== probability) ctx.addIssue({ code: 'custom', path: [index, 'probability'], message: `${key} is always ${probability}` });
    }
    const lastOpen = stages.findLastIndex((stage) => kindOf(stage.key) === 'OPEN');
    if (lastOpen < 0) ctx.addIssue({ code: 'custom', path: [], message: 'At least one open stage' });
    stages.forEach((stage, index) => {
      if (kindOf(stage.key) !== 'OPEN' && index < lastOpen) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `${stage.key} is terminal: it comes after every open stage` });
    });
  });
export type PipelineStagesInput = z.input<typeof pipelineStagesInput>;

/**
 * The pipeline configuration (SAL-3): stage keys, labels and default probabilities in whole percent.
 * Stored as one document, seeded with the defaults on first use.
 */
export class PipelineService {
  private readonly serial = new PerKeySerializer();
  /** Which of `keys` opportunities are still in (the opportunity module answers). */
  private stagesInUse: (keys: string[]) => Promise<string[]> = async () => [];
  private cached: { at: number; value: Promise<PipelineRecord> } | undefined;

  constructor(private readonly pipelines: PipelineModel) {}

  useStageUsage(inUse: (keys: string[]) => Promise<string[]>): void {
    this.stagesInUse = inUse;
  }

  /**
   * The configuration, cached for `CACHE_MS` (lists resolve every opportunity's probability from it);
   * a change made through this process is seen at once, one made by another replica within `CACHE_MS`.
   */
  current(): Promise<PipelineRecord> {
    if (!this.cached || Date.now() - this.cached.at > CACHE_MS) {
      const value = this.load();
      this.cached = { at: Date.now(), value };
      value.catch(() => {
        if (this.cached?.value === value) this.cached = undefined;
      });
    }
    return this.cached.value;
  }

  /** The stored configuration; created with the defaults when there is none yet (idempotent upsert). */
  private async load(): Promise<PipelineRecord> {
    const found = await this.pipelines.findById(DEFAULT_PIPELINE_ID).lean<PipelineRecord>().exec();
    if (found) return found;
    const now = new Date();
    await this.pipelines.collection.updateOne(
      { _id: DEFAULT_PIPELINE_ID } as never,
      { $setOnInsert: { stages: DEFAULT_STAGES.map((s) => ({ ...s })), version: 1, updatedBy: null, createdAt: now, updatedAt: now } } as never,
      { upsert: true },
    );
    return (await this.pipelines.findById(DEFAULT_PIPELINE_ID).lean<PipelineRecord>().exec())!;
  }

  async stages(user: AuthUser): Promise<PipelineRecord> {
    requireRole(user, READERS);
    return this.current();
  }

  /** The stage with `key`, or undefined. */
  async stage(key: string): Promise<PipelineStageRecord | undefined> {
    return (await this.current()).stages.find((stage) => stage.key === key);
  }

  async update(input: PipelineStagesInput, expectedVersion: number | null | undefined, user: AuthUser): Promise<PipelineRecord> {
    requireRole(user, EDITORS);
    const parsed = pipelineStagesInput.safeParse(input);
    if (!parsed.success) throw new PipelineException('PIPELINE_INVALID_INPUT', 'Invalid pipeline stages', fieldProblems(parsed.error.issues, 'stages'));
    return this.serial.run(DEFAULT_PIPELINE_ID, async () => {
      const current = await this.load();
      if (expectedVersion != null && expectedVersion !== current.version) {
        throw new PipelineException('PIPELINE_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
      }
      const kept = new Set(parsed.data.map((stage) => stage.key));
      const removed = current.stages.map((stage) => stage.key).filter((key) => !kept.has(key));
      const inUse = removed.length > 0 ? await this.stagesInUse(removed) : [];
      if (inUse.length > 0) {
        throw new PipelineException('PIPELINE_STAGE_IN_USE', `Opportunities are still in ${inUse.join(', ')}; move them first`, [
          { field: 'stages', message: `Still in use: ${inUse.join(', ')}` },
        ]);
      }
      const now = new Date();
      const result = await this.pipelines.collection.updateOne(
        { _id: DEFAULT_PIPELINE_ID, version: current.version } as never,
        { $set: { stages: parsed.data, version: current.version + 1, updatedBy: user.id, updatedAt: now } } as never,
      );
      if (result.matchedCount === 0) throw new PipelineException('PIPELINE_VERSION_CONFLICT', 'The pipeline was changed meanwhile; reload and retry');
      const next = { ...current, stages: parsed.data, version: current.version + 1, updatedBy: user.id, updatedAt: now };
      this.cached = { at: Date.now(), value: Promise.resolve(next) };
      return next;
    });
  }
}
