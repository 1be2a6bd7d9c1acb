/**
 * Datasets for the pipeline: stream a CSV or JSONL file into a `Frame` (the trainer's column-major
 * table) while fingerprinting it (`readDataset`), build the validation report with
 * missing values, constant columns, class balance and every non-numeric cell of a numeric column
 * by line (`buildValidationReport`), split seeded and stratified (`splitIndices`, `takeRows`),
 * store frames compactly (`encodeFrame`/`decodeFrame`), resolve bundled names and paths safely
 * (`bundledDataset`, `resolveUnderRoot`), and generate seeded synthetic data of any size.
 */
export * from './columns';
export * from './csv';
export * from './read';
export * from './report';
export * from './split';
export * from './codec';
export * from './synthetic';
export * from './paths';
export * from './row-hashes';
export { mulberry32 } from './rng';
