import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../../shared/mlops/deployment.js';
import { fitDetector } from '../../../../shared/ml/multivariate/detector.js';
import type { Matrix } from '../../../../shared/ml/multivariate/matrix.js';
import { exportDetectorToOnnx } from '../../../../shared/ml/onnx/export.js';
import { buildManifest } from '../../../../shared/ml/onnx/manifest.js';
import { createOnnxScorer, type OnnxScorer } from '../../../../shared/ml/onnx/scorer.js';
import { groupModels } from '../../../../shared/ml/registry/groupPrediction.js';
import { MAX_PREDICT_ROWS, predict, type LoadedModel, type ModelLoader } from '../../../../shared/ml/registry/prediction.js';
import { groupRoutingKey } from '../../../../shared/sensors/groupScoring.js';
import { plantRows, SENSORS, withFault } from '../multivariate/synthetic.js';

const sensors = Array.from({ length: SENSORS }, (_, i) => `line-1-s${i}`);
const detector = fitDetector(plantRows(400, 5), { detector: 'pca', featureNames: sensors });
let scorer: OnnxScorer;
const loader: ModelLoader = {
  async load(_tenant, id, version) {
    return { id, version: version ?? 1, source: 'registry', manifest: buildManifest(detector), scorer } satisfies LoadedModel;
  },
};
const at = '2026-03-01T00:00:00.000Z';
const deployment = (share?: number): Deployment => ({
  group: 'line-1',
  champion: { modelId: 'line-pca', version: 2, since: at },
  ...(share ? { challenger: { modelId: 'line-pca-next', version: 1, since: at, trafficShare: share } } : {}),
  history: [],
  revision: 4,
  updatedAt: at,
});

beforeAll(async () => {
  scorer = await createOnnxScorer(exportDetectorToOnnx(detector));
});
afterAll(async () => scorer.release());

describe("a group's deployed models for the streaming scorer, through POST /ml/predict's code", () => {
  it('routes to the champion, names the deployment and the model features; no deployment is undefined', async () => {
    const models = groupModels(async () => loader, { get: async (_t, group) => (group === 'line-1' ? deployment() : undefined) });
    expect(await models.route('acme', 'line-1', 'hour-1')).toEqual({ model: { modelId: 'line-pca', version: 2 }, deployment: { group: 'line-1', revision: 4, role: 'champion' }, features: sensors });
    expect(await models.route('acme', 'line-2', 'hour-1')).toBeUndefined();
  });

  it("sends the challenger its traffic share of the group's hours, and an hour always to the same model", async () => {
    const models = groupModels(async () => loader, { get: async () => deployment(0.3) });
    const hourly = await Promise.all(Array.from({ length: 600 }, (_, h) => models.route('acme', 'line-1', groupRoutingKey(Date.UTC(2026, 2, 1) + h * 3_600_000))));
    const challenged = hourly.filter((r) => r?.deployment.role === 'challenger');
    // 600 draws at 0.3: 180 expected, sd about 11.
    expect(challenged.length).toBeGreaterThan(145);
    expect(challenged.length).toBeLessThan(215);
    for (const r of challenged) expect(r?.model).toEqual({ modelId: 'line-pca-next', version: 1 });
    const again = await models.route('acme', 'line-1', groupRoutingKey(Date.UTC(2026, 2, 1) + 5 * 3_600_000 + 59_000));
    expect(again?.deployment.role).toBe(hourly[5]?.deployment.role);
    expect(groupRoutingKey(Date.UTC(2026, 2, 1) + 3_599_999)).toBe(groupRoutingKey(Date.UTC(2026, 2, 1)));
  });

  it('scores rows exactly as POST /ml/predict does, in requests within its limits, with contributions', async () => {
    const models = groupModels(async () => loader, { get: async () => deployment() });
    const routed = (await models.route('acme', 'line-1', 'hour-0'))!;
    const rows: Matrix = withFault(plantRows(MAX_PREDICT_ROWS + 500, 9), 10_200, 10_300, 2, 8);
    const scored = await models.score('acme', routed, rows);
    expect(scored.results).toHaveLength(rows.rows);
    const tail = Array.from({ length: 500 }, (_, r) => Array.from(rows.data.subarray((MAX_PREDICT_ROWS + r) * SENSORS, (MAX_PREDICT_ROWS + r + 1) * SENSORS)));
    const direct = await predict(loader, 'acme', { modelId: 'line-pca', version: 2, rows: tail, features: sensors });
    expect(scored.results.slice(MAX_PREDICT_ROWS)).toEqual(direct.results);
    expect(scored.threshold).toBe(direct.threshold);
    const fault = scored.results.slice(10_200, 10_300);
    expect(fault.filter((r) => r.label === 1).length).toBeGreaterThan(50);
    // The broken sensor carries the largest share of a flagged row.
    const flagged = fault.find((r) => r.label === 1)!;
    expect(flagged.contributions!.indexOf(Math.max(...flagged.contributions!))).toBe(2);
  });
});
