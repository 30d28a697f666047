export type { ChangePoint } from './types.js';
export { OnlineChangePointDetector, detectChangePointsOnline, type OnlineChangePointOptions, type OnlineChangePointState } from './online.js';
export { detectChangePointsOffline, type PeltOptions } from './pelt.js';
