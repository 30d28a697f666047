export * from './pointwise.js';
export * from './ranking.js';
export * from './event-window.js';
