/**
 * Seeded randomness for decisions that must be replayable: the router's draws take an
 * `Rng`, so a test or a benchmark with a seed sees the same choices every run.
 *
 * Written here rather than taken from npm: d3-random (seedable, Marsaglia–Tsang gamma,
 * beta) is the well-kept candidate, but it is an ESM package with separate types for
 * what is thirty lines, and pure-rand has the uniform generator only.
 */

/** Uniform in [0, 1), like Math.random. */
export type Rng = () => number;

/** mulberry32: a 32-bit state generator, fast and good enough for sampling (not for secrets). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Standard normal, Box–Muller; `1 - rng()` keeps the logarithm's argument in (0, 1]. */
export function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * Gamma(shape, 1) by Marsaglia and Tsang's squeeze method; a shape below 1 is boosted to
 * shape + 1 and scaled back by u^(1/shape), their standard trick.
 */
export function gamma(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new Error(`gamma shape must be positive, got ${shape}`);
  if (shape < 1) return gamma(rng, shape + 1) * (1 - rng()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rng);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  return x / (x + gamma(rng, b));
}
