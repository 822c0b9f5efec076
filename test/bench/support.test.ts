import { expect, it } from 'vitest';
import { slope } from '../../bench/support.js';

it('the memory trend is the least-squares slope: flat swings read as no growth, a steady rise as its rate', () => {
  expect(slope([1, 2, 3, 4], [200, 260, 200, 260])).toBeCloseTo(12, 9);
  // The same swing over more samples: the apparent trend shrinks toward zero.
  expect(slope([1, 2, 3, 4, 5, 6, 7, 8], [200, 260, 200, 260, 200, 260, 200, 260])).toBeCloseTo(120 / 42, 9);
  expect(slope([0, 1e6, 2e6], [100, 150, 200])).toBeCloseTo(50 / 1e6, 12);
  expect(slope([5], [1])).toBe(0);
});
