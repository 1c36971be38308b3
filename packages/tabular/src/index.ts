export * from './formats.js';
export * from './table.js';
