/**
 * The normal distribution's tail functions the scoring models share (the posterior's probit
 * moments, the grade model's ordinal likelihood): one Chebyshev fit of erfcx, from which erfc and
 * Φ follow.
 */

/** exp(x²)·erfc(x) for x ≥ 0 (Chebyshev fit, relative error < 1.2e-7; Numerical Recipes). */
export function erfcx(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t *
                          (-1.13520398 +
                            t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(poly);
}

/** Complementary error function, from erfcx (same relative error). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const upper = erfcx(z) * Math.exp(-z * z);
  return x >= 0 ? upper : 2 - upper;
}

/** Φ(z), the standard normal distribution function. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z * Math.SQRT1_2);
}
