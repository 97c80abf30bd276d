// The inspect drawer's Data tab: a frame's columns and cells, raw or formatted with the panel's
// unit, and the same as CSV for download.

import { frameToTable, formatLabels, type DataFrame, type FieldSchema } from '../../lib/frames';
import { formatDateTime, type TimeZone } from '../../lib/time';
import { formatValueText } from '../../lib/units';

export interface CellFormat {
  /** Formatted: times as dates, numbers with the unit and decimals. Raw: values as the server sent them. */
  formatted: boolean;
  unit?: string;
  decimals?: number;
  timeZone: TimeZone;
}

/** A frame's name in the picker: its name, else its query and index. */
export function frameLabel(frame: DataFrame, index: number): string {
  const name = frame.schema?.name;
  const refId = frame.schema?.refId;
  if (name) return refId ? `${name} (${refId})` : name;
  return refId ? `Query ${refId}, frame ${index + 1}` : `Frame ${index + 1}`;
}

/** A column's header: its display name, else its name with its labels. */
export function columnName(field: FieldSchema): string {
  const configured = field.config?.displayName ?? field.config?.displayNameFromDS;
  if (configured) return configured;
  const labels = field.labels && Object.keys(field.labels).length > 0 ? ` ${formatLabels(field.labels)}` : '';
  return `${field.name}${labels}`;
}

export function formatCell(value: unknown, field: FieldSchema, format: CellFormat): string {
  if (value === null || value === undefined) return '';
  if (!format.formatted) return typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (field.type === 'time' && typeof value === 'number') return formatDateTime(value, format.timeZone);
  if (typeof value === 'number') return formatValueText(value, field.config?.unit ?? format.unit ?? 'none', field.config?.decimals ?? format.decimals);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The frame as a table of strings: headers and rows. */
export function frameCells(frame: DataFrame, format: CellFormat): { headers: string[]; rows: string[][] } {
  const { columns, rows } = frameToTable(frame);
  return {
    headers: columns.map(columnName),
    rows: rows.map((row) => row.map((v, c) => formatCell(v, columns[c], format))),
  };
}

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function frameToCsv(frame: DataFrame, format: CellFormat): string {
  const { headers, rows } = frameCells(frame, format);
  return [headers, ...rows].map((line) => line.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A download name like `CPU-data-2026-11-25 20-31-02.csv` (no characters file systems refuse). */
export function csvFileName(title: string, now: Date): string {
  const safe = (title || 'panel').replace(/[\\/:*?"<>|]+/g, '_').trim();
  const stamp = now.toISOString().slice(0, 19).replace('T', ' ').replace(/:/g, '-');
  return `${safe}-data-${stamp}.csv`;
}
