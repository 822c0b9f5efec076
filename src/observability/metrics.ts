import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds from a request arriving to its answer: from a fast in-memory answer to a durable write held up by a slow disk. */
const ANSWER_SECONDS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The process's Prometheus metrics. One instance per server (not the global registry), so tests
 * can run several servers in one process.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly clicks = new Counter({
    name: 'switchyard_clicks_total',
    help: 'Clicks answered, by outcome and reason code (outcome not_found: an unknown token or deleted link, nothing stored)',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly clickLatency = new Histogram({
    name: 'switchyard_click_duration_seconds',
    help: 'Time from a click arriving to its answer, including the durable write',
    buckets: ANSWER_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly conversions = new Counter({
    name: 'switchyard_conversions_total',
    help: 'Conversions reported by server postback or cookie pixel, by method and answer (approved, pending, rejected, duplicate; refused for a report that stored nothing)',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });

  readonly postbackLatency = new Histogram({
    name: 'switchyard_postback_duration_seconds',
    help: 'Time from a server postback arriving to its answer, including the durable write',
    buckets: ANSWER_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'switchyard_click_batch_size',
    help: 'Clicks committed together in one transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly commitDuration = new Histogram({
    name: 'switchyard_click_commit_seconds',
    help: 'Time one group commit took, fsync included',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'switchyard_click_queue_depth',
    help: 'Clicks waiting for their durable write',
    registers: [this.registry],
  });

  readonly snapshotAge = new Gauge({
    name: 'switchyard_snapshot_age_seconds',
    help: 'Age of the in-memory routing configuration',
    registers: [this.registry],
  });

  readonly postbacks = new Counter({
    name: 'switchyard_partner_postbacks_total',
    help: 'Partner postback outcomes: delivered, retried, failed',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Reads the outbox's depth when /metrics is scraped; set by whoever opens the outbox. */
  readPostbackQueueDepth: (() => Promise<number>) | null = null;

  // Read at scrape time, not fed by the dispatcher's polls: a process that sends no postbacks
  // (POSTBACK_CONCURRENCY=0) must still show what waits in the shared outbox.
  readonly postbackQueueDepth: Gauge = new Gauge({
    name: 'switchyard_partner_postback_queue_depth',
    help: 'Partner postbacks pending or being sent',
    registers: [this.registry],
    collect: async () => {
      if (this.readPostbackQueueDepth === null) return;
      try {
        this.postbackQueueDepth.set(await this.readPostbackQueueDepth());
      } catch {
        // The outbox closing at shutdown: the last value stands rather than failing the scrape.
      }
    },
  });

  readonly capNotifications = new Counter({
    name: 'switchyard_cap_notifications_total',
    help: 'Soft caps reached (one notification per cap and period), by scope, metric and period',
    labelNames: ['scope', 'metric', 'period'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
  }
}
