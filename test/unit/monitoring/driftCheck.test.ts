import { describe, expect, it } from 'vitest';
import { summariseReference } from '../../../shared/ml/drift/index.js';
import { createGaussian, createRng } from '../../../shared/ml/multivariate/rng.js';
import type { Deployment } from '../../../shared/mlops/deployment.js';
import { signalOf } from '../../../shared/monitoring/alertSignals.js';
import { checkDeployedModels, checkModelDrift, deployedModels, referenceOfManifest, type CheckedModel, type DriftCheckDeps, type DriftState, type ModelReference } from '../../../shared/monitoring/driftCheck.js';
import type { StoredReading } from '../../../shared/sensors/readingsStore.js';

const minute = 60_000;
const sensors = ['line-1-flow', 'line-1-pressure'] as const;
const t0 = Date.UTC(2026, 2, 1, 12);
const settings = { windowMs: 60 * minute, minRows: 100 };
const model: CheckedModel = { tenant: 'acme', group: 'line-1', role: 'champion', modelId: 'line-pca', version: 1, since: '2026-03-01T00:00:00.000Z' };

/** Flow around 20 and pressure around 8, one row per 10 s; `shift` moves the pressure's mean (in its sd of 1). */
function rows(count: number, seed: number, shift = 0): number[][] {
  const g = createGaussian(createRng(seed));
  return Array.from({ length: count }, () => [20 + 2 * g(), 8 + shift + g()]);
}

const reference: ModelReference = { features: [...sensors], reference: summariseReference(rows(2000, 1), [...sensors]) };

/** A fake plant: the readings store holds each sensor's series; pressure is read 2 s after flow (within the 10 s interval). */
function world(options: { reference?: ModelReference | undefined; failPublishes?: number } = {}) {
  const series = new Map<string, StoredReading[]>(sensors.map((s) => [s, []]));
  const states = new Map<string, DriftState>();
  const published: { type: string; detail: Record<string, unknown> }[] = [];
  let failPublishes = options.failPublishes ?? 0;
  const key = (...parts: unknown[]) => parts.join('|');
  const deps: DriftCheckDeps = {
    readings: async function* (tenant, sensorId, from, to) {
      if (tenant !== 'acme') return;
      for (const r of series.get(sensorId) ?? []) if (r.timestamp >= from && r.timestamp < to) yield r;
    },
    references: async (tenant, modelId, version) => (tenant === 'acme' && modelId === 'line-pca' && version === 1 ? ('reference' in options ? options.reference : reference) : undefined),
    samplingIntervalSeconds: async () => 10,
    states: {
      get: async (...k) => states.get(key(...k)),
      save: async (tenant, group, modelId, version, state) => {
        const k = key(tenant, group, modelId, version);
        if ((states.get(k)?.revision ?? 0) !== state.revision - 1) return false;
        states.set(k, structuredClone(state));
        return true;
      },
    },
    events: {
      publish: async (type, detail) => {
        if (failPublishes-- > 0) throw new Error('EventBridge is unavailable');
        published.push({ type, detail });
      },
    },
  };
  /** Readings of `count` rows ending at `end`, every 10 s (the store's ranges are [from, to), as DynamoDB's). */
  const send = (end: number, values: number[][]) =>
    values.forEach((row, i) => {
      const t = end - (values.length - 1 - i) * 10_000;
      series.get(sensors[0])!.push({ timestamp: t, value: row[0] });
      series.get(sensors[1])!.push({ timestamp: t + 2_000, value: row[1] });
    });
  const check = (at: number, m: CheckedModel = model) => checkModelDrift(deps, settings, m, { at: new Date(at).toISOString(), correlationId: `tick-${at}` });
  return { deps, states, published, send, check };
}

describe('the drift check of a deployed model', () => {
  it('publishes drift.detected once per episode with the drifted features, then drift.resolved when the readings are back, and re-arms', async () => {
    const w = world();
    w.send(t0, rows(360, 2));
    expect(await w.check(t0)).toEqual({ outcome: 'clear', verdict: 'none', rows: 360 });
    expect(w.published).toEqual([]);

    // The pressure's mean moves by 1.5 sd: the next hour of readings drifted.
    w.send(t0 + 60 * minute, rows(360, 3, 1.5));
    expect(await w.check(t0 + 60 * minute)).toEqual({ outcome: 'detected', verdict: 'significant', rows: 360 });
    expect(w.published).toHaveLength(1);
    const [detected] = w.published;
    expect(detected.type).toBe('drift.detected');
    expect(detected.detail).toMatchObject({
      tenant: 'acme',
      group: 'line-1',
      modelId: 'line-pca',
      version: 1,
      role: 'champion',
      verdict: 'significant',
      window: { from: new Date(t0).toISOString(), to: new Date(t0 + 60 * minute).toISOString(), rows: 360 },
      correlationId: `tick-${t0 + 60 * minute}`,
      thresholds: { psiModerate: 0.1, psiSignificant: 0.25, ksPValue: 0.01 },
    });
    expect(detected.detail.driftId).toMatch(/^dr-[0-9a-f]{24}$/);
    const features = detected.detail.features as { feature: string; psi: number; ks: { pValue: number }; meanShiftSd: number; verdict: string }[];
    // Only the pressure drifted; the flow is not reported.
    expect(features.map((f) => f.feature)).toEqual(['line-1-pressure']);
    expect(features[0]).toMatchObject({ verdict: 'significant' });
    expect(features[0].psi).toBeGreaterThan(0.25);
    expect(features[0].ks.pValue).toBeLessThan(0.01);
    expect(features[0].meanShiftSd).toBeGreaterThan(1.2);

    // Still drifted at the next ticks: nothing more on the bus.
    w.send(t0 + 65 * minute, rows(30, 4, 1.5));
    expect(await w.check(t0 + 65 * minute)).toMatchObject({ outcome: 'drifted', verdict: 'significant' });
    expect(w.published).toHaveLength(1);

    // Back to normal for an hour: resolved, with the episode's id.
    w.send(t0 + 125 * minute, rows(360, 5));
    expect(await w.check(t0 + 125 * minute)).toMatchObject({ outcome: 'resolved', verdict: 'none' });
    expect(w.published.map((e) => e.type)).toEqual(['drift.detected', 'drift.resolved']);
    expect(w.published[1].detail).toMatchObject({ driftId: detected.detail.driftId, group: 'line-1', modelId: 'line-pca', version: 1 });
    expect(w.published[1].detail).not.toHaveProperty('features');

    // Re-armed: a new drift is a new episode.
    w.send(t0 + 185 * minute, rows(360, 6, -2));
    expect(await w.check(t0 + 185 * minute)).toMatchObject({ outcome: 'detected' });
    expect(w.published.map((e) => e.type)).toEqual(['drift.detected', 'drift.resolved', 'drift.detected']);
    expect(w.published[2].detail.driftId).not.toBe(detected.detail.driftId);
  });

  it('keeps the episode on a moderate verdict, so a borderline model does not flap', async () => {
    const w = world();
    w.send(t0, rows(360, 3, 1.5));
    expect(await w.check(t0)).toMatchObject({ outcome: 'detected' });
    // A shift of 0.25 sd: KS flags it (p < 0.01) but PSI stays under 0.1, neither none nor significant.
    w.send(t0 + 60 * minute, rows(360, 8, 0.25));
    expect(await w.check(t0 + 60 * minute)).toMatchObject({ outcome: 'drifted', verdict: 'moderate' });
    expect(w.published).toHaveLength(1);
  });

  it('skips a window with too few aligned rows, and a version without a training reference, saying why', async () => {
    const w = world();
    w.send(t0, rows(99, 2, 3));
    expect(await w.check(t0)).toEqual({ outcome: 'skipped', reason: '99 aligned rows of line-1-flow, line-1-pressure in the window, 100 needed', rows: 99 });
    expect(w.published).toEqual([]);
    expect(w.states.size).toBe(0);

    const byo = world({ reference: { features: [...sensors] } });
    byo.send(t0, rows(360, 3, 3));
    expect(await byo.check(t0)).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('no training reference') });
    const none = world({ reference: undefined });
    expect(await none.check(t0)).toMatchObject({ outcome: 'skipped', reason: 'the model version has no manifest' });
  });

  it('aligns the sensors within the sampling interval: a sensor without readings leaves no rows', async () => {
    const w = world();
    w.send(t0, rows(360, 3, 3));
    w.deps.samplingIntervalSeconds = async () => 1; // pressure 2 s after flow is then too far
    expect(await w.check(t0)).toMatchObject({ outcome: 'skipped', rows: 0 });
  });

  it('of two overlapping ticks one makes the transition, and the event goes out once', async () => {
    const w = world();
    w.send(t0, rows(360, 3, 1.5));
    const outcomes = await Promise.all([w.check(t0), w.check(t0 + 1000)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['detected', 'raced']);
    expect(w.published).toHaveLength(1);
  });

  it('a drift written but not published (EventBridge down) is published at the next tick with the same drift id', async () => {
    const w = world({ failPublishes: 1 });
    w.send(t0, rows(360, 3, 1.5));
    await expect(w.check(t0)).rejects.toThrow('EventBridge is unavailable');
    expect(w.published).toEqual([]);
    const stored = [...w.states.values()][0];
    expect(stored).toMatchObject({ status: 'drifted', announced: false });

    w.send(t0 + 5 * minute, rows(30, 4, 1.5));
    expect(await w.check(t0 + 5 * minute)).toMatchObject({ outcome: 'drifted' });
    expect(w.published).toHaveLength(1);
    expect(w.published[0].detail.driftId).toBe(stored.event.detail.driftId);
    expect([...w.states.values()][0]).toMatchObject({ status: 'drifted', announced: true });
  });

  it('a version deployed again starts afresh: its drift is announced again', async () => {
    const w = world();
    w.send(t0, rows(360, 3, 1.5));
    expect(await w.check(t0)).toMatchObject({ outcome: 'detected' });
    expect(await w.check(t0 + 5 * minute, { ...model, since: '2026-03-01T12:01:00.000Z' })).toMatchObject({ outcome: 'detected' });
    expect(w.published).toHaveLength(2);
  });

  it('walks every deployment: champion and challenger, a failing check reported beside the others', async () => {
    const w = world();
    w.send(t0, rows(360, 3, 1.5));
    const deployment = (group: string, challenger?: string): Deployment => ({
      group,
      champion: { modelId: 'line-pca', version: 1, since: model.since },
      ...(challenger ? { challenger: { modelId: challenger, version: 2, since: model.since, trafficShare: 0.2 } } : {}),
      history: [],
      revision: 1,
      updatedAt: model.since,
    });
    expect(deployedModels('acme', deployment('line-1', 'line-ae')).map((m) => `${m.role}:${m.modelId}@${m.version}`)).toEqual(['champion:line-pca@1', 'challenger:line-ae@2']);
    const references = w.deps.references;
    w.deps.references = async (tenant, modelId, version) => {
      if (modelId === 'broken') throw new Error('S3 is unavailable');
      return references(tenant, modelId, version);
    };
    const deployments = (async function* () {
      yield { tenant: 'acme', deployment: deployment('line-1', 'line-ae') };
      yield { tenant: 'acme', deployment: deployment('line-2', 'broken') };
    })();
    const results = [];
    for await (const r of checkDeployedModels({ ...w.deps, deployments }, settings, { at: new Date(t0).toISOString(), correlationId: 'c' })) results.push(r);
    expect(results.map((r) => ('error' in r ? `error:${(r.error as Error).message}` : r.result.outcome))).toEqual(['detected', 'skipped', 'detected', 'error:S3 is unavailable']);
  });
});

describe('drift events as alert signals', () => {
  it('reads the real drift.detected shape: one alert per model version and episode, resolved by drift.resolved; a loose shape is refused', async () => {
    const w = world();
    w.send(t0, rows(360, 3, 1.5));
    await w.check(t0);
    w.send(t0 + 60 * minute, rows(360, 5));
    await w.check(t0 + 60 * minute);
    const [detected, resolved] = w.published;
    const fire = signalOf('drift.detected', 'e1', detected.detail)!;
    expect(fire).toMatchObject({ tenant: 'acme', effect: 'fire', keys: ['drift:line-1', 'drift:*'], subject: 'line-1/line-pca@1', occurrence: `drift:${detected.detail.driftId as string}`, correlationId: `tick-${t0}` });
    expect(fire.summary).toMatch(/^drift on the champion line-pca v1 of line-1 over the last 60 minutes \(360 rows\): line-1-pressure \(PSI \d+\.\d\d, KS p [\d.e-]+, mean \+1\.\d sd\)$/);
    expect(fire.matches({ kind: 'driftDetected' })).toBe(true);
    const clear = signalOf('drift.resolved', 'e2', resolved.detail)!;
    expect(clear).toMatchObject({ effect: 'resolve', subject: 'line-1/line-pca@1', occurrence: fire.occurrence });
    expect(clear.summary).toBe('the champion line-pca v1 of line-1 matches its training data again (last 60 minutes, 360 rows)');
    expect(() => signalOf('drift.detected', 'e3', { tenant: 'acme', group: 'line-1', modelId: 'line-pca' })).toThrow();
  });

  it('reads a model version\'s features and reference from its manifest', () => {
    expect(referenceOfManifest({ features: [...sensors], reference: reference.reference, detector: 'pca' })).toEqual(reference);
    expect(referenceOfManifest({ format: 'telltale.byo-manifest/1', features: ['a'] })).toEqual({ features: ['a'] });
    expect(referenceOfManifest({ nothing: true })).toBeUndefined();
  });
});
