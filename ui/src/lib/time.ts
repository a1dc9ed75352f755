// "in 3 h", "12 min ago": how far a moment Rust sent (RFC 3339) is from now.

const units: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
];

export function relativeTime(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const diff = at - now;
  const abs = Math.abs(diff);
  const unit = units.find(([ms]) => abs >= ms);
  if (!unit) return diff >= 0 ? 'in under a minute' : 'just now';
  const text = `${Math.floor(abs / unit[0])} ${unit[1]}`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}
