// Marks on the Performance API timeline, so the end-to-end tests can read how
// long the window took to show what Rust sent (`performance.getEntriesByName`):
// "latchkey:profiles-received" when a reload's answer arrives (and, at start,
// the marks the shell's start-up trace prints: see `startupMarks`), and a measure
// from there to the first frame painted with it ("latchkey:list-render",
// "latchkey:timeline-render"). Marks cost microseconds; nothing is sent anywhere.

const supported = () =>
  typeof performance !== 'undefined' && typeof performance.mark === 'function';

export function mark(name: string): void {
  if (supported()) performance.mark(name);
}

/**
 * The page's start-up marks so far (its script started, data asked and
 * received, the first screen in the DOM, its first frame), stamped with the
 * wall clock, for the shell's start-up trace.
 */
export function startupMarks(): { name: string; at_ms: number }[] {
  if (!supported() || typeof performance.getEntriesByType !== 'function') return [];
  return performance
    .getEntriesByType('mark')
    .filter((m) => m.name.startsWith('latchkey:'))
    .map((m) => ({
      name: m.name.slice('latchkey:'.length),
      at_ms: performance.timeOrigin + m.startTime,
    }));
}

/**
 * Measures from the mark `from` to the moment the next frame has been painted
 * (after the next animation frame, the task that follows it runs after paint),
 * once: the mark is used up, so a later change with no new mark is not measured.
 */
export function measureToPaint(name: string, from: string): void {
  if (!supported() || typeof requestAnimationFrame === 'undefined') return;
  if (performance.getEntriesByName(from, 'mark').length === 0) return;
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (performance.getEntriesByName(from, 'mark').length === 0) return;
      performance.measure(name, from);
      performance.clearMarks(from);
    }, 0),
  );
}
