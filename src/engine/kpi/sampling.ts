import type { Rng } from '../rng.js';

/** A uniform number in (0, 1]: safe to take the logarithm of. */
const openUniform = (rng: Rng): number => 1 - rng.next();

/** A standard normal draw (Box–Muller; the second value of the pair is dropped to stay stateless). */
export function sampleNormal(rng: Rng): number {
  const radius = Math.sqrt(-2 * Math.log(openUniform(rng)));
  return radius * Math.cos(2 * Math.PI * rng.next());
}

/** A Gamma(shape, 1) draw: Marsaglia and Tsang's squeeze method, with the boost for shape < 1. */
export function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * Math.pow(openUniform(rng), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = openUniform(rng);
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(alpha, beta) draw from two Gamma draws. */
export function sampleBeta(alpha: number, beta: number, rng: Rng): number {
  const x = sampleGamma(alpha, rng);
  const y = sampleGamma(beta, rng);
  return x / (x + y);
}
