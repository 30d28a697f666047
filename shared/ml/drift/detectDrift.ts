import { InvalidParameterError, MissingFeatureError, SeriesTooShortError } from '../streaming/errors.js';
import { columnsOf, referenceSummarySchema, type ReferenceSummary } from './reference.js';
import { kolmogorovSmirnov, populationStabilityIndex } from './tests.js';

export type DriftVerdict = 'none' | 'moderate' | 'significant';

/**
 * Thresholds (industry convention for PSI; 1 % for KS):
 * - significant: PSI >= 0.25, or KS p < 0.01 together with PSI >= 0.1;
 * - moderate: PSI >= 0.1, or KS p < 0.01 alone (KS flags even tiny shifts on large samples, so alone it is not significant);
 * - none otherwise.
 */
export const DRIFT_THRESHOLDS = { psiModerate: 0.1, psiSignificant: 0.25, ksPValue: 0.01 } as const;

export interface FeatureDrift {
  feature: string;
  ks: { statistic: number; pValue: number };
  psi: number;
  verdict: DriftVerdict;
  /** Mean of the current data minus the reference mean, in reference standard deviations (0 when the reference is constant). */
  meanShiftSd: number;
}

export interface DriftReport {
  verdict: DriftVerdict;
  driftedFeatures: string[];
  features: FeatureDrift[];
  currentRows: number;
  thresholds: typeof DRIFT_THRESHOLDS;
}

const MIN_CURRENT_ROWS = 5;

/**
 * Per-feature drift of `current` (rows of features, named by `featureNames`, default the reference's order) against a
 * reference summary. Extra current features are ignored; a reference feature missing from current is an error.
 */
export function detectDrift(reference: ReferenceSummary, current: readonly (readonly number[])[], featureNames?: readonly string[]): DriftReport {
  const parsed = referenceSummarySchema.safeParse(reference);
  if (!parsed.success) throw new InvalidParameterError('reference', `is not a reference summary: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const names = featureNames ?? reference.features.map((f) => f.name);
  if (current.length < MIN_CURRENT_ROWS) throw new SeriesTooShortError('current data', current.length, MIN_CURRENT_ROWS, 'rows to compare distributions');
  const columns = columnsOf(current, names, 'current');
  const features = reference.features.map((ref): FeatureDrift => {
    const c = names.indexOf(ref.name);
    if (c < 0) throw new MissingFeatureError(ref.name);
    const column = columns[c].slice().sort();
    const ks = kolmogorovSmirnov(ref.sample, column);
    const psi = populationStabilityIndex(ref.binEdges, ref.binFractions, column);
    let mean = 0;
    for (const v of column) mean += v / column.length;
    return { feature: ref.name, ks, psi, verdict: verdictOf(psi, ks.pValue), meanShiftSd: ref.std > 0 ? (mean - ref.mean) / ref.std : 0 };
  });
  const rank: Record<DriftVerdict, number> = { none: 0, moderate: 1, significant: 2 };
  const verdict = features.reduce<DriftVerdict>((worst, f) => (rank[f.verdict] > rank[worst] ? f.verdict : worst), 'none');
  return { verdict, driftedFeatures: features.filter((f) => f.verdict !== 'none').map((f) => f.feature), features, currentRows: current.length, thresholds: DRIFT_THRESHOLDS };
}

function verdictOf(psi: number, ksP: number): DriftVerdict {
  const ksFlag = ksP < DRIFT_THRESHOLDS.ksPValue;
  if (psi >= DRIFT_THRESHOLDS.psiSignificant || (ksFlag && psi >= DRIFT_THRESHOLDS.psiModerate)) return 'significant';
  if (psi >= DRIFT_THRESHOLDS.psiModerate || ksFlag) return 'moderate';
  return 'none';
}
