import { expect, it } from 'vitest';
import { pairedRatio } from '../../bench/kpi/report.js';
import { median, slope } from '../../bench/support.js';

it('the memory trend is the least-squares slope: flat swings read as no growth, a steady rise as its rate', () => {
  expect(slope([1, 2, 3, 4], [200, 260, 200, 260])).toBeCloseTo(12, 9);
  // The same swing over more samples: the apparent trend shrinks toward zero.
  expect(slope([1, 2, 3, 4, 5, 6, 7, 8], [200, 260, 200, 260, 200, 260, 200, 260])).toBeCloseTo(120 / 42, 9);
  expect(slope([0, 1e6, 2e6], [100, 150, 200])).toBeCloseTo(50 / 1e6, 12);
  expect(slope([5], [1])).toBe(0);
});

it('the regret ratio carries its standard error over the paired seeds', () => {
  // Regrets that move together seed by seed leave the ratio certain.
  expect(pairedRatio([1, 2, 3], [2, 4, 6])).toEqual({ ratio: 0.5, se: 0 });
  // Means 2 and 2; the first varies (variance 2) and the second does not: se = 1 · √((2/4) / 2).
  const spread = pairedRatio([1, 3], [2, 2]);
  expect(spread.ratio).toBe(1);
  expect(spread.se).toBeCloseTo(0.5, 12);
  // One seed says nothing about the spread.
  expect(pairedRatio([3], [4]).se).toBe(0);
});

it('the median of an even number of repeats is the mean of the middle two, not the higher one', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([10, 2])).toBe(6);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});
