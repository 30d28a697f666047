import { detectDrift, summariseReference, type DriftReport } from '../drift/index.js';
import type { DriftRequest } from './contract.js';

/** POST /ml/drift: per-feature KS and PSI of current rows against reference rows or a stored reference summary. */
export function detectFeatureDrift(request: DriftRequest): DriftReport {
  const reference = request.referenceSummary ?? summariseReference(request.reference!.rows, request.reference!.features);
  return detectDrift(reference, request.current.rows, request.current.features);
}
