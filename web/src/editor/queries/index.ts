// The per-datasource query editors of the panel editor (Grafana's query rows).
export { QueryEditor } from './QueryEditor';
export type { QueryEditorProps, Target } from './types';
