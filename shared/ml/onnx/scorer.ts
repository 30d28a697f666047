/**
 * One onnxruntime session per model, created once and reused: what the predict Lambda keeps per
 * container. Rows are float32, row-major.
 */
import * as ort from 'onnxruntime-node';
import { InvalidInputError } from '../multivariate/errors.js';
import { OnnxModelLoadError } from './errors.js';
import { MANIFEST_METADATA_KEY, parseManifest, type ModelManifest } from './manifest.js';
import { loadSession, readModelBytes, type ModelSource } from './session.js';

export interface OnnxScores {
  score: Float64Array;
  contributions?: Float64Array;
}

export interface OnnxScorer {
  readonly inputName: string;
  readonly featureCount: number;
  /** The manifest carried in metadata_props, when the model has one. */
  readonly manifest: ModelManifest | undefined;
  score(rows: Float32Array): Promise<OnnxScores>;
  release(): Promise<void>;
}

/**
 * metadata_props as a record; undefined for bytes onnx-proto cannot decode (ORT then decides).
 * onnx-proto loads on first use only: a scorer given its manifest never needs it, which keeps it
 * out of the predict function's cold start.
 */
export async function readMetadata(bytes: Uint8Array): Promise<Record<string, string> | undefined> {
  const { decodeModel } = await import('./graph.js');
  try {
    const model = decodeModel(bytes);
    return Object.fromEntries((model.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  } catch {
    return undefined;
  }
}

function manifestOf(metadata: Record<string, string> | undefined): ModelManifest | undefined {
  const text = metadata?.[MANIFEST_METADATA_KEY];
  return text ? parseManifest(text) : undefined;
}

/** Last dimension of the first input when it is fixed; undefined when symbolic. */
export function declaredFeatureCount(session: ort.InferenceSession): number | undefined {
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor) return undefined;
  const last = meta.shape[meta.shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : undefined;
}

function toFloat64(t: ort.Tensor | undefined): Float64Array | undefined {
  if (!t) return undefined;
  return t.data instanceof Float64Array ? t.data : Float64Array.from(t.data as ArrayLike<number>);
}

/** One session for a model; its manifest comes from `knownManifest` (e.g. a sidecar file) or the model's metadata. */
export async function createOnnxScorer(source: ModelSource, knownManifest?: ModelManifest): Promise<OnnxScorer> {
  const bytes = await readModelBytes(source);
  const session = await loadSession(bytes);
  const manifest = knownManifest ?? manifestOf(await readMetadata(bytes));
  const featureCount = declaredFeatureCount(session) ?? manifest?.signature.featureCount;
  if (featureCount === undefined) throw new OnnxModelLoadError('the model declares no fixed feature count and carries no manifest');
  const inputName = session.inputNames[0];
  const scoreOutput = manifest?.signature.scoreOutput ?? session.outputNames[0];
  const contributionsOutput = manifest?.signature.contributionsOutput;
  return {
    inputName,
    featureCount,
    manifest,
    async score(rows: Float32Array): Promise<OnnxScores> {
      if (rows.length === 0 || rows.length % featureCount !== 0) {
        throw new InvalidInputError('feature-count', `${rows.length} values are not whole rows of ${featureCount} features`);
      }
      const input = new ort.Tensor('float32', rows, [rows.length / featureCount, featureCount]);
      const out = await session.run({ [inputName]: input });
      const score = toFloat64(out[scoreOutput]);
      if (!score) throw new OnnxModelLoadError(`the model produced no output named ${scoreOutput}`);
      return { score, contributions: contributionsOutput ? toFloat64(out[contributionsOutput]) : undefined };
    },
    release: () => session.release(),
  };
}
