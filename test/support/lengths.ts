/**
 * Feet in millimetres, worked out here rather than by src/lib/length.ts, so tests do not compute what
 * they expect with the code they check.
 */
export const feetMm = (feet: number): number => Math.round(feet * 304.8);
