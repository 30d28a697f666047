/** The data context's domain API: what the data Lambda handlers and the pipeline steps call. */
export { DataValidationError, FatalIssue, FatalIssueCode } from './errors.js';
export { DataFormat, DatasetSchema, Delimiter, ExpectedRange, SensorColumn, inferSchema, type SchemaSample } from './dataset-schema.js';
export { sourceFromRecords, sourceFromText, type ByteSource, type ByteSourceFactory, type DataInput } from './byte-source.js';
export { openTable, type RowBatch, type Table, type TableLayout, type TableOptions } from './table-reader.js';
export { RowError, RowErrorCode, ValidationCounts, ValidationReport } from './validation-report.js';
export { assertValid, validateDataset, type ValidateOptions } from './validate-dataset.js';
export { PreprocessRecipe, PreprocessResult, ScaleParams, WindowStat, type PreprocessRecipeInput } from './preprocess-recipe.js';
export { preprocessDataset, preprocessToRecords, type PreprocessedRecord, type PreprocessOptions } from './preprocess-dataset.js';
export { ColumnProfile, DownsampledSeries, Finding, FindingRange, QualityCheck, QualityReport, Severity } from './quality-report.js';
export { profileDataset, type ProfileOptions } from './profile-dataset.js';
export { renderQualityReportHtml } from './quality-report-html.js';
export { formatTimestamp, parseTimestamp } from './timestamp.js';
