import { Component, type ReactNode } from 'react';

interface Props {
  /** What to show instead of the children once they have thrown. */
  fallback: (error: Error) => ReactNode;
  children: ReactNode;
}

/**
 * Keeps a rendering error inside the part of the page that threw: a panel with data it cannot draw
 * shows its error and the other panels stay; a failed chunk load (a deploy replaced the assets)
 * offers a reload instead of a blank page.
 */
export class ErrorBoundary extends Component<Props, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    return this.state.error ? this.props.fallback(this.state.error) : this.props.children;
  }
}
