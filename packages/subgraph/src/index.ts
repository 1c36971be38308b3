export * from './server.js';
export * from './run.js';
export { createFormatError } from './errors.js';
export { DateTimeScalar } from './scalars.js';
