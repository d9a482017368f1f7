import { afterEach, beforeAll, beforeEach } from 'vitest';
import type { Exchange } from '../record/exchange.ts';
import { setExchangeSink } from '../record/exchange.ts';
import { beginTest, endTest } from './context.ts';
import './meta.ts';

// Exchanges outside any test (a describe's beforeAll building test data) belong to the file; each
// test's own go on the test. The reporters read both from task meta.
let fileExchanges: Exchange[] = [];

// biome-ignore lint/correctness/noEmptyPattern: vitest reads fixtures from an object pattern in the first argument
beforeAll(({}, file) => {
  fileExchanges = [];
  file.meta.exchanges = fileExchanges;
  setExchangeSink(fileExchanges);
});

beforeEach(({ task }) => {
  const exchanges: Exchange[] = [];
  task.meta.exchanges = exchanges;
  setExchangeSink(exchanges);
  beginTest(task.meta);
});

afterEach(() => {
  endTest();
  setExchangeSink(fileExchanges);
});
