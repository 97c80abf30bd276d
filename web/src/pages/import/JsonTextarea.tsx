import { useEffect, useRef } from 'react';

/** Above this many characters, inserted text is put in at once (see below). */
const LARGE_INSERT = 10_000;

/**
 * The JSON textarea. Chromium applies a large `insertText` (what input methods and browser
 * automation such as Playwright's `fill` send, unlike a paste) line by line, in time that grows with
 * the square of the size: node-exporter-full (470 KB) takes minutes. A large insert is therefore
 * taken over and applied in one step; pastes and typing stay native.
 */
export function JsonTextarea({ value, onChange, testId }: { value: string; onChange: (text: string) => void; testId: string }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  });
  useEffect(() => {
    const textarea = ref.current;
    if (!textarea) return;
    const onBeforeInput = (e: InputEvent) => {
      if (e.inputType !== 'insertText' || typeof e.data !== 'string' || e.data.length < LARGE_INSERT) return;
      e.preventDefault();
      const { selectionStart, selectionEnd, value: current } = textarea;
      onChangeRef.current(current.slice(0, selectionStart) + e.data + current.slice(selectionEnd));
    };
    textarea.addEventListener('beforeinput', onBeforeInput);
    return () => textarea.removeEventListener('beforeinput', onBeforeInput);
  }, []);
  return (
    <textarea
      ref={ref}
      data-testid={testId}
      rows={12}
      spellCheck={false}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      placeholder='{ "title": "…", "panels": [ … ] }'
    />
  );
}
