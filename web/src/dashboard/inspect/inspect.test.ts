import { describe, expect, it } from 'vitest';
import type { DataFrame } from '../../lib/frames';
import { columnName, csvFileName, frameCells, frameLabel, frameToCsv } from './inspectData';
import { formatPanelJson, parsePanelJson } from './panelJson';

const frame: DataFrame = {
  schema: {
    refId: 'A',
    fields: [
      { name: 'time', type: 'time' },
      { name: 'value', type: 'number', labels: { job: 'api' }, config: { unit: 'bytes' } },
      { name: 'note', type: 'string' },
    ],
  },
  data: {
    values: [
      [0, 60000],
      [2048, null],
      ['a,b', 'say "hi"'],
    ],
  },
};

describe('inspect data', () => {
  it('names frames and columns', () => {
    expect(frameLabel(frame, 0)).toBe('Query A, frame 1');
    expect(frameLabel({ schema: { name: 'up', refId: 'B', fields: [] } }, 3)).toBe('up (B)');
    expect(frameLabel({}, 1)).toBe('Frame 2');
    expect(columnName(frame.schema!.fields[1])).toBe('value {job="api"}');
    expect(columnName({ name: 'x', config: { displayName: 'Shown' } })).toBe('Shown');
  });

  it('shows raw or formatted cells', () => {
    const raw = frameCells(frame, { formatted: false, timeZone: 'utc' });
    expect(raw.rows).toEqual([
      ['0', '2048', 'a,b'],
      ['60000', '', 'say "hi"'],
    ]);
    const formatted = frameCells(frame, { formatted: true, timeZone: 'utc' });
    expect(formatted.rows[0][1]).toBe('2 KiB');
    expect(formatted.rows[1][0]).toContain('1970-01-01');
  });

  it('writes CSV with quoting', () => {
    const csv = ['time,"value {job=""api""}",note', '0,2048,"a,b"', '60000,,"say ""hi"""', ''].join('\r\n');
    expect(frameToCsv(frame, { formatted: false, timeZone: 'utc' })).toBe(csv);
  });

  it('names the download', () => {
    expect(csvFileName('CPU / load', new Date(Date.UTC(2026, 10, 25, 20, 31, 2)))).toBe('CPU _ load-data-2026-11-25 20-31-02.csv');
    expect(csvFileName('', new Date(0))).toBe('panel-data-1970-01-01 00-00-00.csv');
  });
});

describe('panel JSON', () => {
  const original = { id: 4, type: 'stat', title: 'Up', gridPos: { x: 0, y: 0, w: 6, h: 4 }, scopedVars: { host: 'a' } };

  it('leaves out repeat bookkeeping', () => {
    expect(JSON.parse(formatPanelJson(original))).toEqual({ id: 4, type: 'stat', title: 'Up', gridPos: { x: 0, y: 0, w: 6, h: 4 } });
  });

  it('parses edits, keeping id and place', () => {
    const result = parsePanelJson('{"type": "gauge", "title": "Up!"}', original);
    expect(result).toEqual({ panel: { type: 'gauge', title: 'Up!', id: 4, gridPos: { x: 0, y: 0, w: 6, h: 4 } } });
  });

  it('explains what is wrong', () => {
    expect(parsePanelJson('{', original)).toHaveProperty('error', expect.stringContaining('Invalid JSON'));
    expect(parsePanelJson('[1]', original)).toHaveProperty('error', expect.stringContaining('JSON object'));
    expect(parsePanelJson('{"title": "x"}', original)).toHaveProperty('error', expect.stringContaining('"type"'));
    expect(parsePanelJson('{"type": "stat", "id": 9}', original)).toHaveProperty('error', expect.stringContaining('must stay 4'));
  });
});
