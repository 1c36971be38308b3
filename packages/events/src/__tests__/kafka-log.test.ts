import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '@crm/logger';
import { kafkaLogCreator } from '../kafka.js';

describe('kafkajs log lines', () => {
  it('a broker error response kafkajs retries is a warning; other errors stay errors', () => {
    const lines: Array<[string, string]> = [];
    const record = (level: string) => (_entry: unknown, message: string) => void lines.push([level, message]);
    const logger = { error: record('error'), warn: record('warn'), debug: record('debug') } as unknown as Logger;
    const log = kafkaLogCreator(logger)();
    const entry = (level: number, message: string) => ({ namespace: 'x', level, label: 'ERROR', log: { message, timestamp: 't', logger: 'kafkajs' } });
    log(entry(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)'));
    log(entry(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded'));
    log(entry(logLevel.WARN, 'Rebalancing'));
    log(entry(logLevel.INFO, 'Consumer has joined the group'));
    expect(lines).toEqual([
      ['warn', 'Response Metadata(key: 3, version: 6)'],
      ['error', 'Crash: KafkaJSNumberOfRetriesExceeded'],
      ['warn', 'Rebalancing'],
      ['debug', 'Consumer has joined the group'],
    ]);
  });
});
