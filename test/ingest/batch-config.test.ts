import { expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

it('click batching defaults to 512 clicks and no added wait', () => {
  const config = loadConfig({});
  expect(config.clickBatchMax).toBe(512);
  expect(config.clickBatchWaitMs).toBe(0);
});

it('click batching settings are read from the environment and out-of-range values are refused', () => {
  const config = loadConfig({ CLICK_BATCH_MAX: '64', CLICK_BATCH_WAIT_MS: '2' });
  expect([config.clickBatchMax, config.clickBatchWaitMs]).toEqual([64, 2]);
  expect(() => loadConfig({ CLICK_BATCH_MAX: '0' })).toThrow(ConfigError);
  expect(() => loadConfig({ CLICK_BATCH_WAIT_MS: '-1' })).toThrow(ConfigError);
  expect(() => loadConfig({ CLICK_BATCH_MAX: 'lots' })).toThrow(/CLICK_BATCH_MAX/);
});

it('the heap growth limit defaults to 30 % and 0 hands the choice back to V8', () => {
  expect(loadConfig({}).heapGrowingPercent).toBe(100);
  expect(loadConfig({ HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
  expect(() => loadConfig({ HEAP_GROWING_PERCENT: '-5' })).toThrow(/HEAP_GROWING_PERCENT/);
});
