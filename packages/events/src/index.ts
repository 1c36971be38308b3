export * from './envelope.js';
export * from './kafka.js';
export * from './consumer.js';
export * from './outbox.js';
export * from './aggregate-writer.js';
export * from './audit.js';
