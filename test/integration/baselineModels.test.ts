import { describe, expect, it } from 'vitest';
import { useLocalCloud } from './localCloudFixture.js';

const local = useLocalCloud();

describe('baseline models on the local cloud', () => {
  it.each(['baseline-pca', 'baseline-autoencoder'])('POST /ml/predict with %s answers 200 on a fresh local cloud', async (modelId) => {
    const call = await local.client('acme', ['telltale/read']);
    const rows = [
      [0.1, 0.2, 0.1, -0.4, 0.1, 0.3, 0.2, 0.05],
      [4, -4, 4, 4, -4, 4, -4, 4],
    ];
    const response = await call('/ml/predict', { method: 'POST', body: JSON.stringify({ modelId, rows }) });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as { model: { id: string; version: number }; results: { score: number }[] };
    expect(body.model).toMatchObject({ id: modelId, version: 1 });
    expect(body.results).toHaveLength(2);
    // The off-pattern row scores above the normal one.
    expect(body.results[1].score).toBeGreaterThan(body.results[0].score);
  });
});
