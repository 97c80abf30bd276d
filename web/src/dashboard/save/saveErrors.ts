// What a failed save means for the dialog: a conflict it can resolve (overwrite, reload) or an error
// to show. The server answers 412 with Grafana's `status` word for the two conflicts.
import { ApiError } from '../../api/client';

export type SaveProblem =
  /** Someone else saved a newer version since this one was loaded. */
  | { kind: 'version-mismatch'; message: string }
  /** Another dashboard in the target folder has this title. */
  | { kind: 'name-exists'; message: string }
  | { kind: 'error'; message: string };

export function saveProblem(error: unknown): SaveProblem {
  if (error instanceof ApiError) {
    const status = (error.body as { status?: unknown } | undefined)?.status;
    if (error.status === 412 && (status === 'version-mismatch' || status === 'name-exists')) return { kind: status, message: error.message };
    return { kind: 'error', message: error.message || `Save failed (HTTP ${error.status})` };
  }
  return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
}
