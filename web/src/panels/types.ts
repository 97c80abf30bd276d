import type { DataFrame, Series } from '../lib/frames';
import type { TimeZone } from '../lib/time';
import type { PanelModel } from '../dashboard/model';
import type { AlertAnnotation } from '../api/alerting';

export interface PanelData {
  frames: DataFrame[];
  series: Series[];
}

export interface PanelProps {
  panel: PanelModel;
  data: PanelData;
  width: number;
  height: number;
  timeZone: TimeZone;
  /** The queried range in epoch ms (the x scale of time series). */
  range: { from: number; to: number };
  /** Drag-to-zoom: sets the dashboard's time range. */
  onZoom: (from: number, to: number) => void;
  /** Alert state changes of this panel in the range, drawn as markers on time series. */
  annotations?: AlertAnnotation[];
}
