import { useMemo, useState } from 'react';
import { frameToTable } from '../lib/frames';
import { formatDateTime } from '../lib/time';
import { formatValueText } from '../lib/units';
import { displayOptions } from './fieldOptions';
import type { PanelProps } from './types';

type Sort = { column: number; descending: boolean } | undefined;

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function TablePanel({ panel, data, timeZone }: PanelProps) {
  const [frameIndex, setFrameIndex] = useState(0);
  const [sort, setSort] = useState<Sort>();
  const frame = data.frames[Math.min(frameIndex, data.frames.length - 1)];
  const table = useMemo(() => (frame ? frameToTable(frame) : { columns: [], rows: [] }), [frame]);
  const rows = useMemo(() => {
    if (!sort) return table.rows;
    const sorted = [...table.rows].sort((a, b) => compare(a[sort.column], b[sort.column]));
    return sort.descending ? sorted.reverse() : sorted;
  }, [table, sort]);
  const { unit, decimals } = displayOptions(panel);

  if (!frame) return <div className="panel-nodata">No data</div>;

  const format = (value: unknown, type?: string, columnUnit?: string) => {
    if (value === null || value === undefined) return '';
    if (type === 'time' && typeof value === 'number') return formatDateTime(value, timeZone);
    if (typeof value === 'number') return formatValueText(value, columnUnit ?? unit ?? 'none', decimals);
    return String(value);
  };

  return (
    <div className="table-wrap">
      {data.frames.length > 1 && (
        <label className="table-frame-select">
          <span className="visually-hidden">Frame</span>
          <select value={frameIndex} onChange={(e) => setFrameIndex(Number(e.target.value))}>
            {data.frames.map((f, i) => (
              <option key={i} value={i}>
                {f.schema?.name || f.schema?.refId || `Frame ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
      )}
      <table className="data-table">
        <thead>
          <tr>
            {table.columns.map((c, i) => (
              <th key={i} aria-sort={sort?.column === i ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                {/* Click cycles ascending, descending, unsorted, as Grafana's table does. */}
                <button type="button" onClick={() => setSort(sort?.column !== i ? { column: i, descending: false } : sort.descending ? undefined : { column: i, descending: true })}>
                  {c.config?.displayName ?? c.name}
                  {sort?.column === i ? (sort.descending ? ' ↓' : ' ↑') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r}>
              {row.map((cell, c) => (
                <td key={c} className={table.columns[c].type === 'number' ? 'number' : undefined}>
                  {format(cell, table.columns[c].type, table.columns[c].config?.unit)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
