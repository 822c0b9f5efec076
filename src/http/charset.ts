/** The `charset` parameter a Content-Type declares (as written, quotes removed), or undefined. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
}
