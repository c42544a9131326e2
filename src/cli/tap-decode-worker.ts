/**
 * The entry of the tap's decoding worker (see `serveTapDecoding`): the
 * outputs `kubewire tap` asked for, built in the worker from plain options.
 */
import { serveTapDecoding } from '../tap/decode-worker-side.js';
import { createOutput, type OutputOptions } from './output/index.js';
import { pathsStage } from './tap-paths-stage.js';

/** `TapWorkerData.app` of this worker. */
export interface TapCliWorkerApp {
  output: Omit<OutputOptions, 'stdout'>;
  /** Link paths for the summary, naming this input. */
  paths?: string;
}

serveTapDecoding(async (app, stdout) => {
  const a = app as TapCliWorkerApp;
  const output = createOutput({ ...a.output, stdout });
  const summaryStage = a.paths !== undefined ? await pathsStage(a.paths) : undefined;
  return { output, summaryStage };
});
