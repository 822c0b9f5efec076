import type { NewConversion } from '../domain/conversion.js';

/** A partner postback to queue in the outbox together with its conversion (SPEC §10.4). */
export interface QueuedPartnerPostback {
  partner_id: number;
  /**
   * The partner's URL with every macro expanded except `{conversion_id}`, split where that macro
   * stood: the id exists only once the row is inserted, and joining the pieces with it keeps
   * substitution single-pass (a sub value that reads "{conversion_id}" is never expanded).
   */
  url_pieces: string[];
}

export interface ConversionWrite {
  conversion: NewConversion;
  /** The idempotency key (see `identityOf` in domain/conversion.ts). */
  event_key: string;
  order_key: string;
  /** Queued in the same transaction when the conversion is new; null = no partner postback. */
  partner_postback: QueuedPartnerPostback | null;
}

/** `inserted: false` = an earlier conversion holds the same key; `id` is that conversion's. */
export type ConversionWriteResult = { inserted: true; id: number } | { inserted: false; id: number };

/**
 * The durable conversion log. `write` resolves only once the conversion (and its partner postback)
 * is committed at the configured durability level — or once a conversion with the same key is
 * known to be committed — so a 2xx answered after it is never lost. Duplicates are decided by the
 * storage's unique key inside the write; a read before it (`ConversionReader.idOf`) only answers
 * replays of conversions already committed sooner. It rejects on any other failure.
 */
export interface ConversionWriter {
  writeConversion(write: ConversionWrite): Promise<ConversionWriteResult>;
}
