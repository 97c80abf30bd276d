// Placeholder until the save dialog lands (same session): the page's contract for it.
import { useDashboardEditor } from '../editor';

export interface SaveDashboardDialogProps {
  onClose: () => void;
}

export default function SaveDashboardDialog({ onClose }: SaveDashboardDialogProps) {
  const editor = useDashboardEditor();
  return (
    <div role="dialog" data-testid="save-dialog">
      <button type="button" className="button primary" data-testid="save-dashboard-confirm" onClick={() => void editor.save().then(onClose)}>
        Save
      </button>
    </div>
  );
}
