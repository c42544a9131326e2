/**
 * Decode's path linking as a summary stage of the tap: sessions recorded
 * while the tap runs, linked at the end, so that the summary of a tap equals
 * that of its recording decoded.
 */
import type { SummaryStage } from '../tap/run-tap.js';

export async function pathsStage(input: string): Promise<SummaryStage> {
  const [{ PathRecorder }, { linkSummary, withPaths }] = await Promise.all([import('../paths/recorder.js'), import('./paths-run.js')]);
  const recorder = new PathRecorder();
  return {
    event: (ev) => recorder.event(ev),
    finish: (summary) => withPaths(summary, linkSummary(summary, recorder, input)),
  };
}
