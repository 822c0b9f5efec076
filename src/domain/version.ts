/** `14.2.1` → [14, 2, 1]; anything without a leading number is unknown. */
export function parseVersion(value: string | null): number[] | null {
  if (value === null) return null;
  const parts = value.split(/[._]/);
  const numbers: number[] = [];
  for (const part of parts) {
    if (!/^\d+$/.test(part)) break;
    numbers.push(Number(part));
  }
  return numbers.length > 0 ? numbers : null;
}

/** Numeric, part by part; missing parts count as 0 (so `14` equals `14.0.0`). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
