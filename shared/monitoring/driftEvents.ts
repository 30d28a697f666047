import { z } from 'zod';

/** The drift check's events on the bus (drift.detected, drift.resolved): their contract, for the check and its listeners. */

const featureStatistics = z.object({
  feature: z.string(),
  ks: z.object({ statistic: z.number(), pValue: z.number() }),
  psi: z.number(),
  verdict: z.enum(['moderate', 'significant']),
  meanShiftSd: z.number(),
});

const driftSubject = {
  tenant: z.string().min(1),
  group: z.string().min(1),
  modelId: z.string().min(1),
  version: z.number().int().min(1),
  role: z.enum(['champion', 'challenger']),
  /** The drift episode: one drift.detected, then at most one drift.resolved, carry it. */
  driftId: z.string().min(1),
  /** The readings compared: [from, to], and the aligned rows in it. */
  window: z.object({ from: z.iso.datetime(), to: z.iso.datetime(), rows: z.number().int().min(0) }),
  correlationId: z.string().min(1),
};

/** The detail of `drift.detected`: the drifted features with their statistics. */
export const driftDetectedDetail = z.object({
  ...driftSubject,
  verdict: z.literal('significant'),
  features: z.array(featureStatistics).min(1),
  thresholds: z.object({ psiModerate: z.number(), psiSignificant: z.number(), ksPValue: z.number() }),
});
export type DriftDetectedDetail = z.infer<typeof driftDetectedDetail>;

/** The detail of `drift.resolved`: the model's recent readings match its training reference again. */
export const driftResolvedDetail = z.object(driftSubject);
export type DriftResolvedDetail = z.infer<typeof driftResolvedDetail>;

/** One alert per model version of a group: a champion and its challenger drift (and recover) apart. */
export const driftAlertSubject = (d: Pick<DriftResolvedDetail, 'group' | 'modelId' | 'version'>) => `${d.group}/${d.modelId}@${d.version}`;

/** "pump-1-vibration (PSI 0.62, KS p 0.0001, mean +2.3 sd)". */
export function describeDriftedFeatures(features: DriftDetectedDetail['features']): string {
  return features
    .map((f) => `${f.feature} (PSI ${f.psi.toFixed(2)}, KS p ${f.ks.pValue.toPrecision(2)}, mean ${f.meanShiftSd >= 0 ? '+' : ''}${f.meanShiftSd.toFixed(1)} sd)`)
    .join(', ');
}
