/**
 * The visitor's primary language from Accept-Language: the highest-weighted tag (the first on a
 * tie), reduced to its ISO 639-1 code in lower case; null when absent, `*` or not a 2-letter code.
 */
export function primaryLanguage(header: string | null | undefined): string | null {
  if (!header) return null;
  let best: string | null = null;
  let bestWeight = 0;
  for (const item of header.slice(0, 1024).split(',')) {
    const [tag = '', ...params] = item.trim().split(';');
    const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const weight = q === undefined ? 1 : Number(q);
    const language = /^([a-zA-Z]{2})(?:-|$)/.exec(tag.trim())?.[1];
    if (language !== undefined && weight > bestWeight) {
      best = language.toLowerCase();
      bestWeight = weight;
    }
  }
  return best;
}
