// The window's keyboard shortcuts: which key does what, decided from the key
// and where the keyboard is (typing in a field, a dialog open), so the rules
// are tested without a window. The help overlay lists `shortcutList`.

/** What a shortcut asks the window to do. */
export type ShortcutCommand =
  'palette' | 'search' | 'help' | 'next' | 'previous' | 'first' | 'last' | 'open' | 'copy-token';

/** The parts of a keyboard event the shortcuts look at. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** Where the keyboard is when the key is pressed. */
export interface KeyContext {
  /** Focus is in a text field, text area or list box: keys are the user's text. */
  typing: boolean;
  /** A modal dialog is open: it has the keyboard. */
  modal: boolean;
  /** Text is selected in the page: Ctrl+C copies that, as everywhere. */
  textSelected: boolean;
  /** Focus is on a button or link: Enter presses it. */
  control: boolean;
}

export function shortcutFor(press: KeyPress, where: KeyContext): ShortcutCommand | null {
  const ctrl = press.ctrlKey || press.metaKey;
  // The palette opens from anywhere but a dialog, even from a text field.
  if (ctrl && !press.altKey && !press.shiftKey && press.key.toLowerCase() === 'k')
    return where.modal ? null : 'palette';
  if (where.modal || where.typing || press.altKey) return null;
  if (ctrl) {
    if (!press.shiftKey && press.key.toLowerCase() === 'c' && !where.textSelected)
      return 'copy-token';
    return null;
  }
  switch (press.key) {
    case '/':
      return 'search';
    case '?':
      return 'help';
    case 'ArrowDown':
      return 'next';
    case 'ArrowUp':
      return 'previous';
    case 'Home':
      return 'first';
    case 'End':
      return 'last';
    case 'Enter':
      return where.control ? null : 'open';
    default:
      return null;
  }
}

/** The shortcuts as the help overlay lists them: each a list of chords, each chord keys pressed together. */
export const shortcutList: { chords: string[][]; does: string }[] = [
  { chords: [['Ctrl', 'K']], does: 'Command palette: log in, copy, renew, inspect, sign…' },
  { chords: [['/']], does: 'Search the profiles' },
  { chords: [['↓'], ['↑']], does: 'Move through the profiles' },
  { chords: [['Home'], ['End']], does: 'First and last profile' },
  { chords: [['Enter']], does: 'Open the selected profile' },
  { chords: [['Ctrl', 'C']], does: 'Copy the selected profile’s token (when no text is selected)' },
  { chords: [['Ctrl', 'Shift', 'C']], does: 'In a profile’s detail: copy its token' },
  {
    chords: [['Ctrl', 'Shift', 'H']],
    does: 'In a profile’s detail: copy its Authorization header',
  },
  { chords: [['Esc']], does: 'Close a dialog or the panel' },
  { chords: [['?']], does: 'This list' },
];

/** The next profile to select after `current`, moving by `command` through `order`. */
export function moveSelection(
  order: readonly number[],
  current: number | null,
  command: 'next' | 'previous' | 'first' | 'last',
): number | null {
  if (order.length === 0) return null;
  if (command === 'first') return order[0];
  if (command === 'last') return order[order.length - 1];
  const at = current === null ? -1 : order.indexOf(current);
  if (at < 0) return command === 'next' ? order[0] : order[order.length - 1];
  const next = command === 'next' ? at + 1 : at - 1;
  return order[Math.min(order.length - 1, Math.max(0, next))];
}
