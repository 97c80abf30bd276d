import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import { saveProblem } from './saveErrors';

describe('saveProblem', () => {
  it('recognizes the two conflicts by their 412 status word', () => {
    expect(saveProblem(new ApiError(412, 'The dashboard has been changed by someone else', { status: 'version-mismatch' })).kind).toBe('version-mismatch');
    expect(saveProblem(new ApiError(412, 'A dashboard with the same name in the folder already exists', { status: 'name-exists' })).kind).toBe('name-exists');
  });

  it('shows anything else with the server message', () => {
    expect(saveProblem(new ApiError(412, 'Cannot save a plugin dashboard', { status: 'plugin-dashboard' }))).toEqual({ kind: 'error', message: 'Cannot save a plugin dashboard' });
    expect(saveProblem(new ApiError(403, 'Permission denied', undefined))).toEqual({ kind: 'error', message: 'Permission denied' });
    expect(saveProblem(new TypeError('Failed to fetch'))).toEqual({ kind: 'error', message: 'Failed to fetch' });
  });
});
