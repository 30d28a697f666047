/**
 * A thin builder over onnx-proto: initialisers, nodes and typed inputs/outputs, so each exporter reads
 * as the computation it encodes. Weights are stored as DOUBLE so onnxruntime computes in float64 like
 * the TypeScript models and the two agree to ~1e-12, not float32's ~1e-6.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const OPSET = 17;
export const ML_OPSET = 3;
/** ONNX IR version 8 is what opset 17 needs and what onnx-proto 8 encodes. */
const IR_VERSION = 8;
const DataType = onnx.TensorProto.DataType;

export type AttributeValue = number | string | number[] | string[];
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attributes?: Record<string, AttributeValue>;
  /** Integer attributes: a JS number does not say whether it is an int or a float. */
  ints?: Record<string, number | number[]>;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;

  /** A unique value name with a readable prefix. */
  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  doubles(prefix: string, values: ArrayLike<number>, dims: number[]): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dataType: DataType.DOUBLE, dims, doubleData: Array.from(values) });
    return name;
  }

  int64s(prefix: string, values: number[]): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dataType: DataType.INT64, dims: [values.length], int64Data: values });
    return name;
  }

  node(spec: NodeSpec): void {
    const attribute = [
      ...Object.entries(spec.attributes ?? {}).map(([k, v]) => floatOrStringAttribute(k, v)),
      ...Object.entries(spec.ints ?? {}).map(([k, v]) => intAttribute(k, v)),
    ];
    this.nodes.push({ opType: spec.op, input: spec.inputs, output: spec.outputs, domain: spec.domain ?? '', name: this.name(spec.op), attribute });
  }

  /** One-output node, returning the output's name. */
  op(op: string, inputs: string[], extra: Omit<NodeSpec, 'op' | 'inputs' | 'outputs'> = {}): string {
    const out = this.name(op.toLowerCase());
    this.node({ op, inputs, outputs: [out], ...extra });
    return out;
  }
}

function floatOrStringAttribute(name: string, v: AttributeValue): AttributeProto {
  if (typeof v === 'number') return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (v.every((x) => typeof x === 'number')) return { name, type: onnx.AttributeProto.AttributeType.FLOATS, floats: v as number[] };
  return { name, type: onnx.AttributeProto.AttributeType.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
}

function intAttribute(name: string, v: number | number[]): AttributeProto {
  if (typeof v === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
}

/** A tensor value with a symbolic batch dimension `N` and fixed other dimensions. */
export function tensorValue(name: string, elemType: 'float' | 'double', dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemType === 'float' ? DataType.FLOAT : DataType.DOUBLE,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface ModelSpec {
  graphName: string;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  metadata: Record<string, string>;
  usesMlDomain?: boolean;
  docString?: string;
}

/** Serialises the graph into ONNX model bytes (opset 17, plus ai.onnx.ml 3 when asked). */
export function encodeModel(g: GraphBuilder, spec: ModelSpec): Uint8Array {
  const opsetImport = [{ domain: '', version: OPSET }, ...(spec.usesMlDomain ? [{ domain: 'ai.onnx.ml', version: ML_OPSET }] : [])];
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport,
    producerName: 'telltale',
    producerVersion: '1',
    docString: spec.docString ?? '',
    graph: { name: spec.graphName, node: g.nodes, initializer: g.initializers, input: spec.inputs, output: spec.outputs },
    metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Decodes model bytes; throws protobuf's error on garbage. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
