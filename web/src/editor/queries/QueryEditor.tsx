// Picks the query editor for a target by its datasource's type. Cheap to import: the PromQL code
// editor (CodeMirror) is loaded lazily by PrometheusQueryEditor.

import { InfluxQueryEditor } from './InfluxQueryEditor';
import { PrometheusQueryEditor } from './PrometheusQueryEditor';
import { RawQueryEditor } from './RawQueryEditor';
import { TestDataQueryEditor } from './TestDataQueryEditor';
import type { QueryEditorProps } from './types';
import './queries.css';

function EditorFor(props: QueryEditorProps) {
  switch (props.datasource.type) {
    case 'prometheus':
      return <PrometheusQueryEditor {...props} />;
    case 'influxdb':
      return <InfluxQueryEditor {...props} />;
    case 'grafana-testdata-datasource':
    case 'testdata':
      return <TestDataQueryEditor {...props} />;
    default:
      return <RawQueryEditor {...props} />;
  }
}

export function QueryEditor(props: QueryEditorProps) {
  return (
    <div className="query-editor" data-testid="query-editor" data-ds-type={props.datasource.type}>
      <EditorFor {...props} />
    </div>
  );
}
