import type { Knex } from 'knex';

const BATCH = 1_000;

/**
 * Deletes the events the outbox no longer needs: created before `before`, fanned out, with no delivery still
 * pending nor attempted since `before`, and no module still to handle them. Their delivery log goes with them (ON DELETE CASCADE). One
 * short transaction per batch, so a large backlog never holds many locks (nor the embedded database's one
 * connection) for long. Returns how many events went.
 */
export async function sweepOutbox(knex: Knex, before: Date, batchSize = BATCH): Promise<number> {
  let swept = 0;
  for (;;) {
    const [candidates, deleted] = await knex.transaction(async (tx) => {
      const { rows: events } = (await tx.raw(
        `SELECT o.id FROM outbox o
          WHERE o.created_at < ? AND o.fanned_out_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.event_id = o.id AND (d.status = 'pending' OR d.last_attempt_at >= ?))
            AND NOT EXISTS (SELECT 1 FROM module_inbox m WHERE m.event_id = o.id AND m.status = 'pending')
          ORDER BY o.created_at
          LIMIT ?
          FOR UPDATE OF o SKIP LOCKED`,
        [before, before, batchSize],
      )) as { rows: { id: string }[] };
      if (events.length === 0) return [0, 0];
      const ids = events.map((event) => event.id);
      // Checked again under lock: a replay may have made a delivery pending since the query above looked.
      const deliveries = (await tx('webhook_deliveries')
        .whereIn('event_id', ids)
        .orderBy('id')
        .forUpdate()
        .select('event_id', 'status', 'last_attempt_at')) as {
        event_id: string;
        status: string;
        last_attempt_at: Date | null;
      }[];
      const kept = new Set(
        deliveries
          .filter((d) => d.status === 'pending' || (d.last_attempt_at && d.last_attempt_at >= before))
          .map((d) => d.event_id),
      );
      const doomed = ids.filter((id) => !kept.has(id));
      if (doomed.length > 0) await tx('outbox').whereIn('id', doomed).delete();
      return [events.length, doomed.length];
    });
    swept += deleted;
    if (candidates < batchSize) return swept;
  }
}
