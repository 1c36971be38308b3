export * from './sheet.js';
export * from './model.js';
export * from './runner.js';
