// Light and dark themes are CSS variables switched by `data-theme` on <html>. The user's choice is
// kept in localStorage; without one we follow the system's prefers-color-scheme.

import { useCallback, useSyncExternalStore } from 'react';

export type Theme = 'light' | 'dark';

const STORAGE_KEY = 'pharos.theme';
const listeners = new Set<() => void>();
const darkQuery = typeof window !== 'undefined' ? window.matchMedia('(prefers-color-scheme: dark)') : undefined;

function storedTheme(): Theme | undefined {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : undefined;
  } catch {
    return undefined; // storage can be disabled; the system preference still works
  }
}

export function currentTheme(): Theme {
  return storedTheme() ?? (darkQuery?.matches ? 'dark' : 'light');
}

export function applyTheme(): void {
  document.documentElement.dataset.theme = currentTheme();
}

function notify() {
  applyTheme();
  listeners.forEach((l) => l());
}

darkQuery?.addEventListener('change', notify);

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useTheme(): [Theme, () => void] {
  const theme = useSyncExternalStore(subscribe, currentTheme);
  const toggle = useCallback(() => {
    try {
      localStorage.setItem(STORAGE_KEY, currentTheme() === 'dark' ? 'light' : 'dark');
    } catch {
      /* not persisted, nothing else to do */
    }
    notify();
  }, []);
  return [theme, toggle];
}
