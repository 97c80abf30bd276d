import { useEffect, useState } from 'react';

/**
 * `value`, but while `delayMs` is positive only once it has stopped changing for that long (so typing
 * in a variable's definition does not resolve the variables on every key). With 0 it follows at once.
 */
export function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  // Following at once: keep the settled copy current during render (React's derived-state pattern),
  // so switching to a delay starts from the latest value rather than an old one.
  if (delayMs <= 0 && settled !== value) setSettled(value);
  useEffect(() => {
    if (delayMs <= 0) return;
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return delayMs <= 0 ? value : settled;
}
