import { describe, expect, it } from 'vitest';
import { panelPlugin } from '../../panels/registry';
import { changeVizType, DEFAULT_TEXT, VIZ_TYPES } from './vizTypes';

describe('visualization types', () => {
  it('offers only types the registry draws', () => {
    for (const v of VIZ_TYPES) expect(panelPlugin(v.type), v.type).toBeDefined();
  });

  it('keeps queries and options when the type changes', () => {
    const panel = { id: 1, type: 'timeseries', targets: [{ refId: 'A' }], options: { legend: { displayMode: 'table' } } };
    expect(changeVizType(panel, 'stat')).toEqual({ ...panel, type: 'stat' });
    expect(changeVizType(panel, 'timeseries')).toBe(panel);
  });

  it('gives a new text panel content', () => {
    expect(changeVizType({ id: 1, type: 'stat' }, 'text').options).toEqual({ mode: 'markdown', content: DEFAULT_TEXT });
    expect(changeVizType({ id: 1, type: 'stat', options: { content: 'hi', mode: 'html' } }, 'text').options).toEqual({ mode: 'html', content: 'hi' });
  });
});
