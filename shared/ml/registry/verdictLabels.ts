import { z } from 'zod';

/**
 * The detail of `anomaly.reviewed`: an operator's verdict on an episode, with the sensors and the
 * time span it covers. The sensors context publishes it; the ml context keeps it as a label
 * (DESIGN: a context listens to another's events, never reads its tables).
 */
export const anomalyReviewed = z.object({
  tenant: z.string().min(1),
  episodeId: z.string().min(1),
  sensorIds: z.array(z.string().min(1)).min(1),
  start: z.iso.datetime(),
  end: z.iso.datetime(),
  verdict: z.enum(['confirmed', 'rejected']),
  at: z.iso.datetime().describe('When the verdict was recorded: a later verdict on the episode replaces an earlier one'),
});
export type AnomalyReviewed = z.infer<typeof anomalyReviewed>;

/** A judged episode as the ml context keeps it. */
export type VerdictLabel = Omit<AnomalyReviewed, 'tenant'>;

/** The ml context's copy of the operators' verdicts (in the models table). */
export interface VerdictLabelStore {
  /** Keeps the verdict unless a later one of the same episode is kept already. */
  put(tenant: string, label: VerdictLabel): Promise<void>;
  /** Every kept verdict of the tenant. */
  list(tenant: string): Promise<VerdictLabel[]>;
}

/** A confirmed anomaly of some sensors over [start, end], epoch ms. */
export interface ConfirmedWindow {
  sensorIds: readonly string[];
  start: number;
  end: number;
}

/** The confirmed anomalies that involve any of `sensorIds` (a model's features are sensors). Rejected ones are normal. */
export async function confirmedWindows(store: Pick<VerdictLabelStore, 'list'>, tenant: string, sensorIds: readonly string[]): Promise<ConfirmedWindow[]> {
  const wanted = new Set(sensorIds);
  return (await store.list(tenant))
    .filter((l) => l.verdict === 'confirmed' && l.sensorIds.some((s) => wanted.has(s)))
    .map((l) => ({ sensorIds: l.sensorIds, start: Date.parse(l.start), end: Date.parse(l.end) }));
}

/** 1 for each row whose time (epoch ms) falls inside a confirmed window, else 0. */
export function insideConfirmed(times: ArrayLike<number>, windows: readonly ConfirmedWindow[]): Uint8Array {
  const out = new Uint8Array(times.length);
  if (windows.length === 0) return out;
  for (let r = 0; r < times.length; r++) {
    const t = times[r];
    for (const w of windows) {
      if (t >= w.start && t <= w.end) {
        out[r] = 1;
        break;
      }
    }
  }
  return out;
}
