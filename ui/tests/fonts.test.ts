import { describe, expect, it } from 'vitest';
import css from '../src/app.css?raw';
import detail from '../src/components/ProfileDetail.svelte?raw';
import {
  MONO_STACK,
  SANS_STACK,
  cssStack,
  installed,
  pruneFontStacks,
  type Measure,
} from '../src/lib/fonts';

/**
 * A system with `have` installed: each family has its own width, a missing
 * one falls back to the generic after it (as the browser does).
 */
function system(have: Record<string, number>): { measure: Measure; asked: string[] } {
  const generics: Record<string, number> = { monospace: 600, serif: 500 };
  const asked: string[] = [];
  const measure: Measure = (font) => {
    asked.push(font);
    const families = font
      .replace(/^40px /, '')
      .split(', ')
      .map((f) => f.replace(/^'(.*)'$/, '$1'));
    for (const family of families) {
      if (family in have) return have[family];
      if (family in generics) return generics[family];
    }
    throw new Error(`no fallback in ${font}`);
  };
  return { measure, asked };
}

/** The stack a `font-family: var(--NAME, stack)` declaration falls back to. */
function fallbackStack(source: string, name: string): string[] {
  const found = new RegExp(`var\\(\\s*${name},([^)]*)\\)`).exec(source);
  if (!found) throw new Error(`no var(${name}, …) in the stylesheet`);
  return found[1].split(',').map((f) => f.trim().replace(/^'(.*)'$/, '$1'));
}

describe('the font stacks', () => {
  it('are the ones app.css and the profile detail fall back to', () => {
    expect(fallbackStack(css, '--font-sans')).toEqual([...SANS_STACK]);
    expect(fallbackStack(css, '--font-mono')).toEqual([...MONO_STACK]);
    expect(fallbackStack(detail, '--font-mono')).toEqual([...MONO_STACK]);
  });

  it('keep the installed families in their order, and the generic last', () => {
    const { measure } = system({ Roboto: 510, Cantarell: 520 });
    expect(installed(SANS_STACK, measure)).toEqual(['Roboto', 'Cantarell', 'sans-serif']);
    expect(installed(MONO_STACK, system({}).measure)).toEqual(['monospace']);
  });

  it('keep a family as wide as one of the fallbacks', () => {
    // DejaVu Sans Mono is often what "monospace" is: the serif fallback still tells.
    const { measure } = system({ 'DejaVu Sans Mono': 600 });
    expect(installed(MONO_STACK, measure)).toEqual(['DejaVu Sans Mono', 'monospace']);
  });

  it('are written as app.css writes them, keywords bare', () => {
    expect(cssStack(SANS_STACK)).toBe(
      "system-ui, -apple-system, 'Segoe UI', Roboto, Ubuntu, Cantarell, sans-serif",
    );
    expect(cssStack(MONO_STACK)).toBe(
      "ui-monospace, 'SF Mono', 'Cascadia Code', 'DejaVu Sans Mono', monospace",
    );
  });

  it('leave the full stacks where nothing can be measured', () => {
    // jsdom has no canvas: the stylesheet's own stacks stay.
    const root = document.createElement('div');
    const getContext = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = (() => null) as typeof getContext;
    try {
      pruneFontStacks(root);
    } finally {
      HTMLCanvasElement.prototype.getContext = getContext;
    }
    expect(root.style.getPropertyValue('--font-sans')).toBe('');
    expect(root.style.getPropertyValue('--font-mono')).toBe('');
  });
});
