import { useState } from 'react';
import { starDashboard, unstarDashboard } from '../api/dashboards';

/** Marks the dashboard as a favourite of the signed-in user (the browse page's "Starred" filter). */
export function StarButton({ uid, initiallyStarred }: { uid: string; initiallyStarred: boolean }) {
  const [starred, setStarred] = useState(initiallyStarred);
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await (starred ? unstarDashboard(uid) : starDashboard(uid));
      setStarred(!starred);
    } catch {
      // Leave the star as it was; the server refused or is unreachable.
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button ghost star-button" data-testid="star-button" aria-pressed={starred} aria-label={starred ? 'Unmark as favorite' : 'Mark as favorite'} disabled={busy} onClick={toggle}>
      {starred ? '★' : '☆'}
    </button>
  );
}
