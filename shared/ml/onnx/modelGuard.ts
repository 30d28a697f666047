/**
 * What a model file may declare before onnxruntime sees it. A tensor stored as *external data*
 * makes onnxruntime read a file named by the model, relative to the working directory (the
 * function's code and keys), so no tensor anywhere may use it; and declared sizes are bounded so
 * a small file cannot make the dry run or predict allocate gigabytes.
 *
 * The check reads the protobuf wire format by ONNX field number rather than through onnx-proto's
 * decoder: onnx-proto knows ONNX 1.10 and silently skips newer fields, so a tensor in one of them
 * (a local function's attribute defaults, ONNX 1.13) would reach onnxruntime unseen.
 */
import { OnnxModelLoadError } from './errors.js';

export interface ModelLimits {
  /** Nodes in all graphs, subgraphs and local functions together. */
  maxNodes: number;
  /** Declared bytes of one tensor (dims x element size), initialiser or attribute. */
  maxTensorBytes: number;
  /** Declared bytes of all tensors together. */
  maxTotalTensorBytes: number;
  /** Elements of a declared input, output or intermediate value with fixed dimensions. */
  maxValueElements: number;
  /** Subgraphs (If, Loop, Scan bodies) nested in subgraphs. */
  maxGraphDepth: number;
}

export const MODEL_LIMITS: ModelLimits = {
  maxNodes: 50_000,
  maxTensorBytes: 64 * 2 ** 20,
  maxTotalTensorBytes: 256 * 2 ** 20,
  maxValueElements: 2 ** 24,
  maxGraphDepth: 8,
};

/** The model declares something we never hand to onnxruntime; `reason` says what and where. */
export class OnnxModelRefusedError extends OnnxModelLoadError {
  override readonly name = 'OnnxModelRefusedError';
  constructor(readonly reason: string) {
    super(`the model is refused: ${reason}`);
  }
}

// ---- protobuf wire format ----

interface Field {
  no: number;
  /** Varint value (wire type 0). */
  int?: bigint;
  /** Length-delimited payload (wire type 2). */
  bytes?: Uint8Array;
}

class Malformed extends Error {}

function readVarint(buf: Uint8Array, at: { pos: number }): bigint {
  let value = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (at.pos >= buf.length) throw new Malformed('truncated varint');
    const b = buf[at.pos++];
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, value);
  }
  throw new Malformed('varint too long');
}

/** The fields of one message, in order; groups and unknown wire types are malformed here. */
function* fields(buf: Uint8Array): Generator<Field> {
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const tag = Number(readVarint(buf, at));
    const no = tag >>> 3;
    const wire = tag & 7;
    if (no === 0) throw new Malformed('field number 0');
    if (wire === 0) yield { no, int: readVarint(buf, at) };
    else if (wire === 2) {
      const length = Number(readVarint(buf, at));
      if (length < 0 || at.pos + length > buf.length) throw new Malformed('length beyond the end');
      yield { no, bytes: buf.subarray(at.pos, at.pos + length) };
      at.pos += length;
    } else if (wire === 1 || wire === 5) {
      at.pos += wire === 1 ? 8 : 4;
      if (at.pos > buf.length) throw new Malformed('truncated fixed-width field');
    } else throw new Malformed(`wire type ${wire}`);
  }
}

/** A repeated int64, packed or not. */
function int64s(f: Field): bigint[] {
  if (f.int !== undefined) return [f.int];
  const out: bigint[] = [];
  const at = { pos: 0 };
  while (f.bytes && at.pos < f.bytes.length) out.push(readVarint(f.bytes, at));
  return out;
}

const text = (f: Field) => new TextDecoder().decode(f.bytes);

// ---- ONNX messages, by field number (onnx.proto) ----

/** Bytes per element of TensorProto.DataType; 8 where unknown so a new type is not under-counted. */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 8: 1, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1, 21: 1, 22: 1, 23: 1 };

const MAX_TYPE_DEPTH = 16;

class ModelScan {
  private nodes = 0;
  private tensorBytes = 0;

  constructor(private readonly limits: ModelLimits) {}

  model(buf: Uint8Array): void {
    const graph = singular(buf, 7);
    if (graph) this.graph(graph, 'the graph', 0);
    for (const f of fields(buf)) {
      if (f.no === 20 && f.bytes) this.trainingInfo(f.bytes);
      else if (f.no === 25 && f.bytes) this.function(f.bytes);
    }
  }

  private refuse(reason: string): never {
    throw new OnnxModelRefusedError(reason);
  }

  private graph(buf: Uint8Array, where: string, depth: number): void {
    if (depth > this.limits.maxGraphDepth) this.refuse(`subgraphs nest deeper than ${this.limits.maxGraphDepth} levels (${where})`);
    for (const f of fields(buf)) {
      if (!f.bytes) continue;
      if (f.no === 1) this.node(f.bytes, where, depth);
      else if (f.no === 5) this.tensor(f.bytes, `initializer "${tensorName(f.bytes)}" of ${where}`);
      else if (f.no === 15) this.sparseTensor(f.bytes, `sparse initializer of ${where}`);
      else if (f.no === 11 || f.no === 12 || f.no === 13) this.valueInfo(f.bytes, where);
    }
  }

  private trainingInfo(buf: Uint8Array): void {
    for (const no of [1, 2]) {
      const graph = singular(buf, no);
      if (graph) this.graph(graph, 'the training info', 1);
    }
  }

  private function(buf: Uint8Array): void {
    const name = named(buf, 1) ?? '?';
    for (const f of fields(buf)) {
      if (f.no === 7 && f.bytes) this.node(f.bytes, `function "${name}"`, 1);
      else if (f.no === 11 && f.bytes) this.attribute(f.bytes, `function "${name}"`, 1);
    }
  }

  private node(buf: Uint8Array, where: string, depth: number): void {
    if (++this.nodes > this.limits.maxNodes) this.refuse(`more than ${this.limits.maxNodes} nodes`);
    const here = `node ${named(buf, 4) ?? '?'} "${named(buf, 3) ?? ''}" in ${where}`;
    for (const f of fields(buf)) if (f.no === 5 && f.bytes) this.attribute(f.bytes, here, depth);
  }

  /** Tensors (t, tensors), graphs (g, graphs) and sparse tensors of an attribute. */
  private attribute(buf: Uint8Array, where: string, depth: number): void {
    const here = `attribute "${named(buf, 1) ?? ''}" of ${where}`;
    const t = singular(buf, 5);
    if (t) this.tensor(t, here);
    const g = singular(buf, 6);
    if (g) this.graph(g, `the subgraph in ${here}`, depth + 1);
    const sparse = singular(buf, 22);
    if (sparse) this.sparseTensor(sparse, here);
    for (const f of fields(buf)) {
      if (!f.bytes) continue;
      if (f.no === 10) this.tensor(f.bytes, here);
      else if (f.no === 11) this.graph(f.bytes, `the subgraph in ${here}`, depth + 1);
      else if (f.no === 23) this.sparseTensor(f.bytes, here);
    }
  }

  private tensor(buf: Uint8Array, where: string): void {
    let dims: bigint[] = [];
    let dataType = 0;
    for (const f of fields(buf)) {
      if (f.no === 1) dims = dims.concat(int64s(f));
      else if (f.no === 2 && f.int !== undefined) dataType = Number(f.int);
      else if (f.no === 13) this.refuse(`${where} reads external data; embed the weights in the file`);
      else if (f.no === 14 && f.int !== undefined && f.int !== 0n) this.refuse(`${where} reads external data; embed the weights in the file`);
    }
    this.declared(dims, ELEMENT_BYTES[dataType] ?? 8, where);
  }

  private sparseTensor(buf: Uint8Array, where: string): void {
    for (const no of [1, 2]) {
      const part = singular(buf, no);
      if (part) this.tensor(part, where);
    }
    // onnxruntime makes a sparse initialiser dense: its dense shape is what it allocates.
    const dense = [...fields(buf)].filter((f) => f.no === 3).flatMap(int64s);
    if (dense.length > 0) this.declared(dense, 8, `the dense shape of ${where}`);
  }

  private declared(dims: bigint[], elementBytes: number, where: string): void {
    if (dims.some((d) => d < 0n)) this.refuse(`${where} has a negative dimension`);
    const bytes = dims.reduce((n, d) => n * Number(d), elementBytes);
    if (bytes > this.limits.maxTensorBytes) this.refuse(`${where} declares ${bytes} bytes, over ${this.limits.maxTensorBytes}`);
    this.tensorBytes += bytes;
    if (this.tensorBytes > this.limits.maxTotalTensorBytes) this.refuse(`its tensors declare more than ${this.limits.maxTotalTensorBytes} bytes in all`);
  }

  private valueInfo(buf: Uint8Array, where: string): void {
    const type = singular(buf, 2);
    if (type) this.type(type, `value "${named(buf, 1) ?? ''}" of ${where}`);
  }

  /** TypeProto: tensor and sparse tensor shapes, through sequence (4), map (5) and optional (9) types. */
  private type(buf: Uint8Array, where: string, depth = 0): void {
    // Nesting is bounded so a crafted type cannot exhaust the stack.
    if (depth > MAX_TYPE_DEPTH) this.refuse(`${where} nests types deeper than ${MAX_TYPE_DEPTH} levels`);
    for (const no of [1, 8]) {
      const shape = singular(singular(buf, no), 2);
      if (shape) this.shape(shape, where);
    }
    for (const [no, inner] of [[4, 1], [5, 2], [9, 1]]) {
      const element = singular(singular(buf, no), inner);
      if (element) this.type(element, where, depth + 1);
    }
  }

  private shape(buf: Uint8Array, where: string): void {
    let elements = 1;
    for (const dim of fields(buf)) {
      if (dim.no !== 1 || !dim.bytes) continue;
      let value: bigint | undefined;
      for (const d of fields(dim.bytes)) if (d.no === 1 && d.int !== undefined) value = d.int;
      if (value !== undefined) elements *= Math.max(0, Number(value));
    }
    if (elements > this.limits.maxValueElements) this.refuse(`${where} declares ${elements} elements, over ${this.limits.maxValueElements}`);
  }
}

/**
 * A non-repeated message field: a parser merges every occurrence of it into one (their bytes
 * concatenated), so it is checked merged, as onnxruntime will see it.
 */
function singular(buf: Uint8Array | undefined, no: number): Uint8Array | undefined {
  if (!buf) return undefined;
  const parts = [...fields(buf)].filter((f) => f.no === no && f.bytes).map((f) => f.bytes!);
  if (parts.length <= 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A string field of a message, for naming where a problem is. */
function named(buf: Uint8Array, no: number): string | undefined {
  for (const f of fields(buf)) if (f.no === no && f.bytes) return text(f).slice(0, 80);
  return undefined;
}

const tensorName = (buf: Uint8Array) => named(buf, 8) ?? '';

/** Throws OnnxModelRefusedError for a model onnxruntime must not load, OnnxModelLoadError for bytes that are no ONNX protobuf. */
export function assertSafeModel(bytes: Uint8Array, limits: ModelLimits = MODEL_LIMITS): void {
  try {
    new ModelScan(limits).model(bytes);
  } catch (error) {
    if (error instanceof Malformed) throw new OnnxModelLoadError(`cannot load the model: it is not an ONNX protobuf (${error.message})`);
    throw error;
  }
}
