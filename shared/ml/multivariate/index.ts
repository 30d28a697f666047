export * from './errors.js';
export * from './matrix.js';
export * from './raw-scores.js';
export * from './pca.js';
export * from './isolation-forest.js';
export * from './autoencoder.js';
export * from './causal.js';
export * from './detector.js';
