// The window's two font stacks (app.css's `--font-sans` and `--font-mono`),
// without the families this system does not have.
//
// Why: WebKitGTK looks a family up in fontconfig anew for every font size and
// weight the page uses, and a family that is not installed costs a full
// fontconfig match of each name its aliases expand to (about a hundred) before
// the next family is tried. The sans stack names six families that a Linux
// desktop rarely has all of, so each size and weight cost hundreds of matches;
// the profiles screen uses about twenty, and its first layout spent 100-300 ms
// in fontconfig (issue 13). A family that is not installed never draws a
// glyph, so leaving it out changes nothing on screen: each character still
// comes from the first family that has it.

/** app.css's stacks, in order; the last of each is a generic that always resolves. */
export const SANS_STACK = [
  'system-ui',
  '-apple-system',
  'Segoe UI',
  'Roboto',
  'Ubuntu',
  'Cantarell',
  'sans-serif',
] as const;
export const MONO_STACK = [
  'ui-monospace',
  'SF Mono',
  'Cascadia Code',
  'DejaVu Sans Mono',
  'monospace',
] as const;

/**
 * A stack as `font-family` takes it, written as app.css writes it: a name of
 * one word bare, so that a keyword stays a keyword (system-ui, sans-serif,
 * and in Safari's engine -apple-system and ui-monospace too: quoted, each
 * would be a family name that no font has), names with spaces quoted.
 */
export function cssStack(families: readonly string[]): string {
  return families.map((f) => (f.includes(' ') ? `'${f}'` : f)).join(', ');
}

/** Measures a text's width in a font (canvas shorthand), e.g. "40px 'Ubuntu', serif". */
export type Measure = (font: string) => number;

const PROBE = 'mmmmmmmmmmlli WQ@#0123';

/**
 * The families of `stack` this system has, in their order, and always its
 * last (the generic). A family is there when text set in it, falling back to
 * monospace or to serif, is not exactly as wide as in monospace or serif
 * alone: two different fallbacks, so a family that happens to be one of them
 * is still seen.
 */
export function installed(stack: readonly string[], measure: Measure): string[] {
  const base = ['monospace', 'serif'].map((generic) => ({
    generic,
    width: measure(`40px ${generic}`),
  }));
  const last = stack[stack.length - 1];
  return stack.filter(
    (family) =>
      family === last ||
      base.some(
        ({ generic, width }) => measure(`40px ${cssStack([family])}, ${generic}`) !== width,
      ),
  );
}

/** Measures with a canvas; null where there is none (jsdom). */
export function canvasMeasure(doc: Document): Measure | null {
  let context: CanvasRenderingContext2D | null = null;
  try {
    context = doc.createElement('canvas').getContext('2d');
  } catch {
    return null;
  }
  if (!context) return null;
  const ctx = context;
  return (font) => {
    ctx.font = font;
    return ctx.measureText(PROBE).width;
  };
}

/**
 * Sets `--font-sans` and `--font-mono` on the root to the installed part of
 * each stack; where nothing can be measured the full stacks of app.css stay.
 */
export function pruneFontStacks(root: HTMLElement): void {
  const measure = canvasMeasure(root.ownerDocument);
  if (!measure) return;
  root.style.setProperty('--font-sans', cssStack(installed(SANS_STACK, measure)));
  root.style.setProperty('--font-mono', cssStack(installed(MONO_STACK, measure)));
}
