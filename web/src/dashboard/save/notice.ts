// A short notice ("Dashboard saved") at the bottom of the page. It is plain DOM, not React: the save
// dialog that shows it closes (unmounts) at the same moment, and the notice must outlive it.

const DURATION_MS = 3000;

export function showNotice(text: string, testId = 'save-notice') {
  document.querySelectorAll(`[data-testid="${testId}"]`).forEach((old) => old.remove());
  const notice = document.createElement('div');
  notice.className = 'save-notice';
  notice.setAttribute('role', 'status');
  notice.dataset.testid = testId;
  notice.textContent = text;
  document.body.appendChild(notice);
  setTimeout(() => notice.remove(), DURATION_MS);
}
