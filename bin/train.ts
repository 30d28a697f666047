import { writeFileSync } from 'node:fs';
import { deprecatedDetectorNames, multivariateDetectors, multivariateKinds, type MultivariateDetectorName } from '../shared/ml/detectors.js';
import { fitDetector } from '../shared/ml/multivariate/index.js';
// The export and the manifest only: the CLI writes models without loading onnxruntime.
import { exportDetectorToOnnx } from '../shared/ml/onnx/export.js';
import { buildManifest } from '../shared/ml/onnx/manifest.js';
import { leadingNormalRows } from '../shared/ml/registry/trainingData.js';
import { detectorSettings, fitOptions, readTables } from './detect.js';
import { CliError } from './errors.js';
import { choiceOption, numberOption, required, type Values } from './options.js';

export const trainOptions = fitOptions;

/** `model.onnx` -> `model.manifest.json`: the manifest also travels inside the ONNX metadata; the sidecar is for people and registries. */
export const manifestPathOf = (modelPath: string): string => `${modelPath.replace(/\.onnx$/i, '')}.manifest.json`;

/** telltale train: fits a multivariate detector on the first N rows (default all) and writes the ONNX model and its manifest. */
export function runTrain(values: Values, log: (m: string) => void): void {
  const output = required(values, 'output');
  const name = choiceOption<MultivariateDetectorName>(values, 'detector', multivariateDetectors, 'pca', deprecatedDetectorNames);
  const { input, labels } = readTables(values, log);
  const trainRows = numberOption(values, 'train-rows', 10, Number.MAX_SAFE_INTEGER, true) ?? input.matrix.rows;
  if (trainRows > input.matrix.rows) throw new CliError(`--train-rows ${trainRows} is more than the ${input.matrix.rows} rows of the input`);
  const train = leadingNormalRows(input.matrix, labels?.anomalous, trainRows);
  if (labels && train.rows < trainRows) log(`left out ${trainRows - train.rows} of the ${trainRows} training rows, labelled anomalous in column "${labels.column}"`);
  const detector = fitDetector(train, {
    detector: multivariateKinds[name],
    featureNames: input.featureNames,
    ...detectorSettings(values),
  });
  const manifestPath = manifestPathOf(output);
  try {
    writeFileSync(output, exportDetectorToOnnx(detector));
    writeFileSync(manifestPath, `${JSON.stringify(buildManifest(detector), null, 2)}\n`);
  } catch (error) {
    throw new CliError(`cannot write the model: ${(error as Error).message}`);
  }
  log(`${name} on ${input.featureNames.length} feature(s), fitted on ${train.rows} rows in ${detector.training.seconds.toFixed(2)} s -> ${output}, ${manifestPath}`);
}
