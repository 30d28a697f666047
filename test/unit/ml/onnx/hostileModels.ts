/**
 * Models built to attack the loader, each otherwise a valid model of the signature input "features"
 * (float, batch x 3) -> output "anomaly_score" (batch): score = sum(features * w), with `w` hidden
 * where the attack puts it.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Tensor = onnxProto.onnx.ITensorProto;
type Node = onnxProto.onnx.INodeProto;
type Graph = onnxProto.onnx.IGraphProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export const hostileSignature = { input: { name: 'features', features: ['a', 'b', 'c'] }, outputs: { score: 'anomaly_score' } };

/** A tensor whose data onnxruntime would read from `location`, relative to the working directory. */
export const externalTensor = (name: string, location: string, dims = [3]): Tensor => ({
  name,
  dataType: T.FLOAT,
  dims,
  dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
  externalData: [{ key: 'location', value: location }],
});

const value = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/** sum(features * w) per row, with `w` produced by the given nodes and initialisers. */
function scoring(nodes: Node[], initializer: Tensor[], extra: Partial<Graph> = {}): onnxProto.onnx.IModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'hostile',
      node: [...nodes, { opType: 'Mul', input: ['features', 'w'], output: ['m'] }, { opType: 'ReduceSum', input: ['m', 'axes'], output: ['anomaly_score'], attribute: [{ name: 'keepdims', type: A.INT, i: 0 }] }],
      initializer: [...initializer, { name: 'axes', dataType: T.INT64, dims: [1], int64Data: [1] }],
      input: [value('features', ['batch', 3])],
      output: [value('anomaly_score', ['batch'])],
      ...extra,
    },
  };
}

const encode = (model: onnxProto.onnx.IModelProto) => onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();

/** An If whose both branches output `w` from their own initialiser `inner` (a graph nested in a graph). */
function ifNode(output: string, branch: (name: string) => Graph): Node {
  return { opType: 'If', input: ['cond'], output: [output], attribute: ['then_branch', 'else_branch'].map((name) => ({ name, type: A.GRAPH, g: branch(name) })) };
}
const cond: Tensor = { name: 'cond', dataType: T.BOOL, dims: [], int32Data: [1] };

export const hostile = {
  /** The plain attack: an initialiser of the main graph. */
  initializer: (location: string) => encode(scoring([], [externalTensor('w', location)])),
  /** A Constant node whose value attribute reads the file. */
  constantAttribute: (location: string) => encode(scoring([{ opType: 'Constant', output: ['w'], attribute: [{ name: 'value', type: A.TENSOR, t: externalTensor('value', location) }] }], [])),
  /** An initialiser of an If branch, which onnxruntime's optimiser does not touch: this one it reads. */
  subgraph: (location: string) =>
    encode(scoring([ifNode('w', (name) => ({ name, node: [{ opType: 'Identity', input: ['inner'], output: ['out'] }], initializer: [externalTensor('inner', location)], output: [value('out', [3])] }))], [cond])),
  /** The same two levels down: an If inside an If branch. */
  nestedSubgraph: (location: string) =>
    encode(
      scoring(
        [
          ifNode('w', (outer) => ({
            name: outer,
            node: [ifNode('out', (name) => ({ name, node: [{ opType: 'Identity', input: ['inner'], output: ['out'] }], initializer: [externalTensor('inner', location)], output: [value('out', [3])] }))],
            initializer: [cond],
            output: [value('out', [3])],
          })),
        ],
        [cond],
      ),
    ),
  /** A sparse initialiser whose values are external. */
  sparseInitializer: (location: string) =>
    encode(scoring([], [], { sparseInitializer: [{ values: externalTensor('w', location, [3]), indices: { name: 'i', dataType: T.INT64, dims: [3], int64Data: [0, 1, 2] }, dims: [3] }] })),
  /**
   * A local function with an attribute default that reads the file (FunctionProto.attribute_proto,
   * field 11, ONNX 1.13): onnx-proto 8 does not know the field, so it is appended by hand.
   */
  functionAttributeDefault: (location: string) => {
    const fn = onnx.FunctionProto.encode(onnx.FunctionProto.create({ name: 'leak', domain: 'custom', input: [], output: ['w'], attribute: [], node: [{ opType: 'Constant', output: ['w'], attribute: [{ name: 'value', refAttrName: 'v', type: A.TENSOR }] }], opsetImport: [{ domain: '', version: 17 }] })).finish();
    const attribute = onnx.AttributeProto.encode(onnx.AttributeProto.create({ name: 'v', type: A.TENSOR, t: externalTensor('v', location) })).finish();
    const withDefault = concat(fn, field(11, attribute));
    const model = encode({ ...scoring([{ opType: 'leak', domain: 'custom', output: ['w'] }], []), opsetImport: [{ domain: '', version: 17 }, { domain: 'custom', version: 1 }] });
    return concat(model, field(25, withDefault));
  },
  /** 40 GB declared by a 60-byte initialiser with no data. */
  hugeTensor: () => encode(scoring([], [{ name: 'w', dataType: T.FLOAT, dims: [100_000, 100_000] }])),
  /** An input declared as 10^10 values. */
  hugeInput: () => encode(scoring([], [{ name: 'w', dataType: T.FLOAT, dims: [3], floatData: [1, 1, 1] }], { input: [value('features', [100_000, 100_000])] })),
  /** A Constant's tensor given twice, [100000] each time: a parser merges them into one of [100000, 100000] (40 GB). */
  splitTensor: () => {
    const half = (name: string) => onnx.TensorProto.encode(onnx.TensorProto.create({ name, dataType: T.FLOAT, dims: [100_000] })).finish();
    const attribute = concat(onnx.AttributeProto.encode(onnx.AttributeProto.create({ name: 'value', type: A.TENSOR })).finish(), concat(field(5, half('w')), field(5, half(''))));
    const node = concat(onnx.NodeProto.encode(onnx.NodeProto.create({ opType: 'Constant', output: ['w'] })).finish(), field(5, attribute));
    const model = encode(scoring([], []));
    // The node is appended to the graph (field 7 of the model, merged with the first occurrence).
    return concat(model, field(7, field(1, node)));
  },
  /** 50,001 Identity nodes in a chain. */
  tooManyNodes: () => {
    const chain: Node[] = Array.from({ length: 50_001 }, (_, i) => ({ opType: 'Identity', input: [i === 0 ? 'w0' : `w${i}`], output: [i === 50_000 ? 'w' : `w${i + 1}`] }));
    return encode(scoring(chain, [{ name: 'w0', dataType: T.FLOAT, dims: [3], floatData: [1, 1, 1] }]));
  },
};

/** One length-delimited protobuf field. */
function field(no: number, bytes: Uint8Array): Uint8Array {
  return concat(concat(varint((no << 3) | 2), varint(bytes.length)), bytes);
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Uint8Array.from(out);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
