import { describe, expect, it } from 'vitest';
import { moveSelection, shortcutFor, type KeyContext } from '../src/lib/shortcuts';

const key = (
  k: string,
  mods: Partial<Record<'ctrl' | 'shift' | 'alt' | 'meta', boolean>> = {},
) => ({
  key: k,
  ctrlKey: mods.ctrl ?? false,
  shiftKey: mods.shift ?? false,
  altKey: mods.alt ?? false,
  metaKey: mods.meta ?? false,
});
const page: KeyContext = { typing: false, modal: false, textSelected: false, control: false };
const typing: KeyContext = { ...page, typing: true };
const modal: KeyContext = { ...page, modal: true };

describe('the keyboard shortcuts', () => {
  it('map keys on the page to what they do', () => {
    expect(shortcutFor(key('k', { ctrl: true }), page)).toBe('palette');
    expect(shortcutFor(key('K', { ctrl: true }), page)).toBe('palette');
    expect(shortcutFor(key('/'), page)).toBe('search');
    expect(shortcutFor(key('?', { shift: true }), page)).toBe('help');
    expect(shortcutFor(key('ArrowDown'), page)).toBe('next');
    expect(shortcutFor(key('ArrowUp'), page)).toBe('previous');
    expect(shortcutFor(key('Home'), page)).toBe('first');
    expect(shortcutFor(key('End'), page)).toBe('last');
    expect(shortcutFor(key('Enter'), page)).toBe('open');
    expect(shortcutFor(key('c', { ctrl: true }), page)).toBe('copy-token');
    expect(shortcutFor(key('x'), page)).toBeNull();
  });

  it('leave the keys to a text field, except the palette', () => {
    for (const k of ['/', '?', 'ArrowDown', 'Enter'])
      expect(shortcutFor(key(k), typing)).toBeNull();
    expect(shortcutFor(key('c', { ctrl: true }), typing)).toBeNull();
    expect(shortcutFor(key('k', { ctrl: true }), typing)).toBe('palette');
  });

  it('leave Enter to a focused button, which presses it', () => {
    expect(shortcutFor(key('Enter'), { ...page, control: true })).toBeNull();
    expect(shortcutFor(key('ArrowDown'), { ...page, control: true })).toBe('next');
  });

  it('leave every key to an open dialog', () => {
    expect(shortcutFor(key('k', { ctrl: true }), modal)).toBeNull();
    expect(shortcutFor(key('ArrowDown'), modal)).toBeNull();
    expect(shortcutFor(key('c', { ctrl: true }), modal)).toBeNull();
  });

  it('Ctrl+C copies selected text as usual, and leaves Ctrl+Shift+C to the detail', () => {
    expect(shortcutFor(key('c', { ctrl: true }), { ...page, textSelected: true })).toBeNull();
    expect(shortcutFor(key('c', { ctrl: true, shift: true }), page)).toBeNull();
    expect(shortcutFor(key('c', { ctrl: true, alt: true }), page)).toBeNull();
  });
});

describe('moving through the profiles', () => {
  const order = [4, 7, 9];
  it('starts at the first going down and the last going up', () => {
    expect(moveSelection(order, null, 'next')).toBe(4);
    expect(moveSelection(order, null, 'previous')).toBe(9);
  });
  it('steps, and stops at either end', () => {
    expect(moveSelection(order, 4, 'next')).toBe(7);
    expect(moveSelection(order, 9, 'next')).toBe(9);
    expect(moveSelection(order, 4, 'previous')).toBe(4);
    expect(moveSelection(order, 7, 'first')).toBe(4);
    expect(moveSelection(order, 7, 'last')).toBe(9);
  });
  it('starts over when the selected profile left the list, and has nothing to select in none', () => {
    expect(moveSelection(order, 99, 'next')).toBe(4);
    expect(moveSelection([], 4, 'next')).toBeNull();
  });
});
