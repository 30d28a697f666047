/** onnxruntime could not load or run the model bytes (corrupt file, unsupported operator, ...). */
export class OnnxModelLoadError extends Error {
  override readonly name: string = 'OnnxModelLoadError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** The model loads but its inputs or outputs are not the declared signature; `mismatches` lists each difference. */
export class OnnxSignatureMismatchError extends Error {
  override readonly name = 'OnnxSignatureMismatchError';
  constructor(readonly mismatches: string[]) {
    super(`the ONNX model does not match the declared signature: ${mismatches.join('; ')}`);
  }
}

/** The detector (or one of its options) has no ONNX export; nothing is written rather than a wrong model. */
export class OnnxExportUnsupportedError extends Error {
  override readonly name = 'OnnxExportUnsupportedError';
  constructor(readonly detector: string) {
    super(`detector ${detector} has no ONNX export`);
  }
}
