import { describe, expect, it } from 'vitest';
import type { VariableModel } from '../../lib/variables';
import { changeType, duplicateVariable, moveItem, nameError, newVariable, uniqueName, withQueryText } from './variableModel';

const list: VariableModel[] = [
  { name: 'job', type: 'query', query: 'label_values(up, job)', datasource: { type: 'prometheus', uid: 'p' }, refresh: 1 },
  { name: 'instance', type: 'custom', query: 'a,b' },
];

describe('nameError', () => {
  it('accepts a new unique name and the variable its own name', () => {
    expect(nameError('node', list, -1)).toBeUndefined();
    expect(nameError('job', list, 0)).toBeUndefined();
  });
  it('refuses empty, bad characters, reserved and duplicate names', () => {
    expect(nameError('', list, 0)).toMatch(/required/);
    expect(nameError('my-var', list, 0)).toMatch(/letters/);
    expect(nameError('__interval', list, 0)).toMatch(/reserved/);
    expect(nameError('instance', list, 0)).toMatch(/Another/);
  });
});

describe('list edits', () => {
  it('moves items up and down within bounds', () => {
    expect(moveItem(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(moveItem(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moveItem(['a', 'b'], 0, -1)).toEqual(['a', 'b']);
  });
  it('duplicates after the original with a fresh name', () => {
    const copy = duplicateVariable(list, 0);
    expect(copy.map((v) => v.name)).toEqual(['job', 'copy_of_job', 'instance']);
    expect(copy[1].query).toBe('label_values(up, job)');
    expect(uniqueName('copy_of_job', copy)).toBe('copy_of_job_1');
  });
  it('creates a query variable with an unused name', () => {
    expect(newVariable(list)).toMatchObject({ name: 'query0', type: 'query', refresh: 1 });
  });
});

describe('changeType', () => {
  it('keeps name, label, description and hide; resets the type fields', () => {
    const v: VariableModel = { ...list[0], label: 'Job', hide: 1, description: 'd', multi: true };
    const custom = changeType(v, 'custom');
    expect(custom).toMatchObject({ name: 'job', label: 'Job', hide: 1, description: 'd', type: 'custom', query: '', multi: false });
    expect(custom.datasource).toBeUndefined();
    expect(custom.refresh).toBeUndefined();
  });
});

describe('withQueryText', () => {
  it('keeps a string query a string and the object form an object', () => {
    expect(withQueryText(list[0], 'label_values(node)').query).toBe('label_values(node)');
    const object: VariableModel = { name: 'x', type: 'query', query: { query: 'up', refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 } };
    expect(withQueryText(object, 'label_values(job)').query).toEqual({ query: 'label_values(job)', refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 });
  });
  it('updates definition when the dashboard has it', () => {
    const v = { ...list[0], definition: 'label_values(up, job)' } as VariableModel;
    expect(withQueryText(v, 'label_values(x)')).toMatchObject({ definition: 'label_values(x)' });
  });
});
